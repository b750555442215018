// The sgemm kernel of one head's attention, the scratch both kernels need, and the choice between
// them (see head_attention.h; the fused kernel is in head_attention_avx512.cpp).
#include "model/head_attention.h"

#include <algorithm>
#include <cstdlib>
#include <new>
#include <string>

#include "model/cblas_sgemm.h"
#include "model/softmax_rows.h"
#include "util/error.h"

namespace vitc {
namespace {

// Score rows of the sgemm kernel start on 64-byte boundaries: the softmax then reads them faster
// right after the product wrote them (x0.51 on fm_small's 50 x 50 heads, bench/softmax_rows.cpp).
int64_t score_row_floats(int64_t tokens) { return (tokens + 15) / 16 * 16; }

// Heads this wide (q/k + v dims) go to the sgemm kernel, whose register blocking then wins:
// bench_head_attention (2026-12-07, 1 thread, OpenBLAS's SkylakeX kernels; two runs) measured the
// fused kernel at x0.33-0.67 of the sgemm kernel's time on fm_small's heads (50 tokens, 2-16
// dims), x0.69-0.88 on deit_small's heads of 24-48 dims (197 tokens), x0.80-0.84 at 64 + 16, and
// x1.00-1.06 on its full 64 + 64 heads.
constexpr int kSgemmFromDims = 128;

}  // namespace

bool head_attention_sgemm_forced() {
  static const bool forced = [] {
    const char* value = std::getenv("VITC_HEAD_ATTENTION");
    const std::string v = value == nullptr ? "" : value;
    check(v.empty() || v == "auto" || v == "sgemm",
          "environment variable VITC_HEAD_ATTENTION must be auto or sgemm, got '", v, "'");
    return v == "sgemm";
  }();
  return forced;
}

HeadAttentionScratch::HeadAttentionScratch(int64_t tokens, int max_qk_dim) {
  const int64_t qk = std::max(max_qk_dim, 0);
  const int64_t fused = (tokens + qk + 16) * 16;  // scores tokens x 16, q lanes, output lanes
  const int64_t by_sgemm = tokens * score_row_floats(tokens) + tokens * qk;  // scores, scaled q
  const size_t bytes = (static_cast<size_t>(std::max(fused, by_sgemm)) * sizeof(float) + 63) / 64 * 64;
  data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (data_ == nullptr) throw std::bad_alloc();
}

HeadAttentionScratch::~HeadAttentionScratch() { std::free(data_); }

void head_attention_by_sgemm(const HeadAttentionTask& task, float* scratch) {
  const SgemmFn gemm = cblas_sgemm_or_null();
  check(gemm != nullptr, "head_attention_by_sgemm: no cblas_sgemm in this process");
  const int64_t n = task.tokens;
  const int64_t ld = score_row_floats(n);
  float* scores = scratch;
  float* q_scaled = scores + n * ld;
  // q * scale first, as the grouped path (and training) computes it.
  for (int64_t t = 0; t < n; ++t) {
    const float* q = task.q + t * task.ld_in;
    float* dst = q_scaled + t * task.qk_dim;
    for (int d = 0; d < task.qk_dim; ++d) dst[d] = q[d] * task.scale;
  }
  const int tokens = static_cast<int>(n);
  gemm(kCblasRowMajor, kCblasNoTrans, kCblasTrans, tokens, tokens, task.qk_dim, 1.0f, q_scaled,
       std::max(1, task.qk_dim), task.k, static_cast<int>(task.ld_in), 0.0f, scores,
       static_cast<int>(ld));
  softmax_rows_of(scores, scores, n, n, ld);
  gemm(kCblasRowMajor, kCblasNoTrans, kCblasNoTrans, tokens, task.v_dim, tokens, 1.0f, scores,
       static_cast<int>(ld), task.v, static_cast<int>(task.ld_in), 0.0f, task.out,
       static_cast<int>(task.ld_out));
}

void head_attention(const HeadAttentionTask& task, float* scratch) {
  if (head_attention_fused_available() && !head_attention_sgemm_forced() &&
      task.qk_dim + task.v_dim < kSgemmFromDims) {
    head_attention_fused(task, scratch);
  } else {
    head_attention_by_sgemm(task, scratch);
  }
}

}  // namespace vitc
