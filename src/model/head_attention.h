// One head of one image in CPU inference: softmax((q * scale) k^T) v straight from the rows of
// the qkv projection's output, written into the head's columns of the attention's output.
// attention_by_heads.cpp runs one such task per (image, head).
//
// Two kernels:
// - head_attention_fused (head_attention_avx512.cpp, CPUs with AVX-512F): the head's scores, their
//   exponentials and the product with v in one pass, 16 queries per vector, over a per-thread
//   buffer of N x 16 floats; no BLAS call and no N x N score matrix. The lanes are queries, so
//   the softmax's maxima and sums are lane-wise (no reduction across a vector) and its
//   normalisation is applied once to the output; q is transposed into lanes once per 16 queries,
//   k and v are broadcast from the rows in place. A head of width d costs about N x d fused
//   multiply-adds per 16 queries for its scores and as many for its output, plus N exponentials.
//   Why: on a small model the sgemm kernel's two calls and row softmax cost nearly as much for a
//   narrow head (ViT-Slim keeps 1-16 of fm_small's 16 dims per head) as for a full one.
// - head_attention_by_sgemm (everywhere with cblas_sgemm): q scaled into a buffer, two
//   cblas_sgemm calls on the head's columns, the row softmax of softmax_rows.h on score rows
//   64 bytes aligned, the second product written into the output columns.
// Both compute per query the scores minus their maximum, their exponentials (the same
// polynomial), their sum and the weighted sum of v; they differ only in the order of the sums
// (~1e-6; tests/model/head_attention_test.cpp checks both against ATen).
#pragma once

#include <cstddef>
#include <cstdint>

namespace vitc {

// One head of one image's n tokens: q, k and v point at token 0's first column of the head's q,
// k and v (rows ld_in floats apart; qk_dim and v_dim wide), out at token 0's first output column
// (rows ld_out apart): out[t][0, v_dim) = sum_s softmax_s(scale * q[t] . k[s]) v[s]. Either width
// may be 0 (no q/k dims: every score is 0 and the output is the mean of v).
struct HeadAttentionTask {
  const float* q = nullptr;
  const float* k = nullptr;
  const float* v = nullptr;
  int64_t ld_in = 0;
  int64_t tokens = 0;
  int qk_dim = 0;
  int v_dim = 0;
  float scale = 1.0f;
  float* out = nullptr;
  int64_t ld_out = 0;
};

// Whether this build and this CPU run head_attention_fused (AVX-512F).
bool head_attention_fused_available();

// The scratch either kernel needs for heads of `tokens` tokens and q/k widths up to max_qk_dim:
// one per thread, reused head after head; it starts on a 64-byte boundary (a cache line, an
// AVX-512 register).
class HeadAttentionScratch {
 public:
  HeadAttentionScratch(int64_t tokens, int max_qk_dim);
  ~HeadAttentionScratch();
  HeadAttentionScratch(const HeadAttentionScratch&) = delete;
  HeadAttentionScratch& operator=(const HeadAttentionScratch&) = delete;
  float* data() { return data_; }

 private:
  float* data_;
};

// Whether VITC_HEAD_ATTENTION=sgemm; any value but auto, sgemm or empty is refused.
bool head_attention_sgemm_forced();

// The fused kernel; only where head_attention_fused_available().
void head_attention_fused(const HeadAttentionTask& task, float* scratch);

// The sgemm kernel; only where cblas_sgemm_or_null() is not null.
void head_attention_by_sgemm(const HeadAttentionTask& task, float* scratch);

// The fused kernel where the CPU runs it and the head has fewer than 128 q/k + v dims, else the
// sgemm kernel (measured: head_attention.cpp). The environment variable VITC_HEAD_ATTENTION=sgemm
// makes it always the sgemm kernel (benchmarks compare the two on whole models; "auto" or unset:
// the rule).
void head_attention(const HeadAttentionTask& task, float* scratch);

}  // namespace vitc
