// Batched matrix products for attention: a [..., M, K] times b [..., K, N] with equal leading
// dimensions, differentiable, equal to torch::matmul.
//
// Why it exists: with the OpenBLAS LibTorch (Debian's), at::bmm computes a batch of small
// matrices one slice at a time through ATen's addmm, ~1 us of dispatch per slice; window
// attention (Swin: 49x16 by 16x49, ~1000 slices per call) spends more time there than in the
// arithmetic. Here each slice is one direct cblas_sgemm call on the tensors' own strides
// (transposed operands are passed as transposed, not copied), in forward and backward, spread
// over torch's intra-op threads. Results are bitwise equal to at::bmm's on this platform (the
// same OpenBLAS kernels). Elsewhere (CUDA, other dtypes, bf16 autocast, MKL builds, no
// cblas_sgemm, broadcasting shapes) it is torch::matmul.
#pragma once

#include <ATen/Tensor.h>

namespace vitc {

at::Tensor batched_matmul(const at::Tensor& a, const at::Tensor& b);

// Whether batched_matmul uses its own OpenBLAS path for these operands (for tests and benchmarks).
bool batched_matmul_uses_blas(const at::Tensor& a, const at::Tensor& b);

}  // namespace vitc
