// One task per (image, head): two sgemm calls and the row softmax (see attention_by_heads.h).
#include "model/attention_by_heads.h"

#include <algorithm>
#include <cstdlib>
#include <new>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "model/cblas_sgemm.h"
#include "model/parallel_grain.h"
#include "model/softmax_rows.h"
#include "util/compute.h"
#include "util/error.h"

namespace vitc {
namespace {

// A buffer of floats that starts on a 64-byte boundary (a cache line, an AVX-512 register).
class AlignedFloats {
 public:
  explicit AlignedFloats(size_t count)
      : data_(static_cast<float*>(std::aligned_alloc(64, (count * sizeof(float) + 63) / 64 * 64))) {
    if (data_ == nullptr) throw std::bad_alloc();
  }
  ~AlignedFloats() { std::free(data_); }
  AlignedFloats(const AlignedFloats&) = delete;
  AlignedFloats& operator=(const AlignedFloats&) = delete;
  float* data() { return data_; }

 private:
  float* data_;
};

}  // namespace

bool attention_by_heads_runs_on(const c10::Device& device) {
  return device.is_cpu() && cblas_sgemm_or_null() != nullptr;
}

bool attention_by_heads_applies(const at::Tensor& x) {
  return x.defined() && attention_by_heads_runs_on(x.device()) && !at::GradMode::is_enabled() &&
         x.scalar_type() == at::kFloat &&
         current_precision(c10::Device(c10::kCPU)) == Precision::fp32;
}

at::Tensor attention_by_heads(const at::Tensor& qkv_projection,
                              const std::vector<HeadColumns>& heads, double scale, int qk_total,
                              int v_total) {
  check(attention_by_heads_applies(qkv_projection) && qkv_projection.dim() == 3,
        "attention_by_heads: qkv output of shape ", qkv_projection.sizes(),
        " is not a [B, N, width] float32 CPU tensor in inference");
  const at::Tensor qkv_out = qkv_projection.contiguous();
  const int64_t B = qkv_out.size(0), N = qkv_out.size(1), W = qkv_out.size(2);
  check(W == 2 * int64_t{qk_total} + v_total, "attention_by_heads: qkv output width ", W,
        " but the heads need 2 x ", qk_total, " + ", v_total);
  at::Tensor out = at::empty({B, N, v_total}, qkv_out.options());
  const int64_t H = static_cast<int64_t>(heads.size());
  if (B == 0 || N == 0 || H == 0) return out.zero_();
  const float* qkv = qkv_out.data_ptr<float>();
  float* o = out.data_ptr<float>();
  const SgemmFn gemm = cblas_sgemm_or_null();
  const float alpha = static_cast<float>(scale);
  int max_qk = 0;
  int64_t mean_work = 0;
  for (const HeadColumns& h : heads) {
    max_qk = std::max(max_qk, h.qk_dim);
    mean_work += N * N * (h.qk_dim + h.v_dim);
  }
  mean_work /= H;
  const int n = static_cast<int>(N);
  // Score rows start on 64-byte boundaries: the softmax then reads them faster right after the
  // product wrote them (x0.51 on fm_small's 50 x 50 heads, bench/softmax_rows.cpp).
  const int ld = static_cast<int>((N + 15) / 16 * 16);
  at::parallel_for(0, B * H, product_grain(mean_work), [&](int64_t begin, int64_t end) {
    AlignedFloats scores(static_cast<size_t>(N) * ld);
    std::vector<float> q_scaled(static_cast<size_t>(N * max_qk));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t b = task / H;
      const HeadColumns& h = heads[static_cast<size_t>(task % H)];
      const float* rows = qkv + b * N * W;
      // q * scale first, as the grouped path (and training) computes it.
      for (int64_t t = 0; t < N; ++t) {
        const float* q = rows + t * W + h.q_offset;
        float* dst = q_scaled.data() + t * h.qk_dim;
        for (int d = 0; d < h.qk_dim; ++d) dst[d] = q[d] * alpha;
      }
      gemm(kCblasRowMajor, kCblasNoTrans, kCblasTrans, n, n, h.qk_dim, 1.0f, q_scaled.data(),
           std::max(1, h.qk_dim), rows + qk_total + h.q_offset, static_cast<int>(W), 0.0f,
           scores.data(), ld);
      softmax_rows_of(scores.data(), scores.data(), N, N, ld);
      gemm(kCblasRowMajor, kCblasNoTrans, kCblasNoTrans, n, h.v_dim, n, 1.0f, scores.data(), ld,
           rows + 2 * qk_total + h.v_offset, static_cast<int>(W), 0.0f,
           o + b * N * v_total + h.v_offset, v_total);
    }
  });
  return out;
}

}  // namespace vitc
