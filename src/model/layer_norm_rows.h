// LayerNorm over the last dimension by rows, and the residual addition before it fused into the
// same pass.
//
// Why it exists: ATen's LayerNorm costs 109 us on fm_small's [1600, 64] rows (one thread, this
// CPU), a third of the qkv projection that follows it, and it is not pruned: every block keeps
// two of them at full width, so on a compressed model they are a fixed cost that its MACs do not
// show. A row here is read once for its mean, once for its variance and once for the output, all
// in L1 (bench/layer_norm_rows.cpp, docs/slicing_benchmark.md).
//
// Training uses the same kernel (its backward is ATen's native_layer_norm_backward on the saved
// mean and 1/std), so that a student and its teacher in inference normalise alike, as
// softmax_rows.h does for the softmax.
#pragma once

#include <cstdint>

#include <ATen/Tensor.h>
#include <torch/nn/modules/normalization.h>

namespace vitc {

// norm(x) over x's last dimension. Float32 CPU tensors outside bf16 autocast take the row
// kernel (within a few float ulps of ATen's); other dtypes and devices go to ATen.
at::Tensor layer_norm_last_dim(const at::Tensor& x, torch::nn::LayerNormImpl& norm);

// x + a, and norm(x + a). Without autograd on the row kernel's tensors, one pass writes both;
// otherwise the sum and then layer_norm_last_dim.
struct SumAndNormed {
  at::Tensor sum, normed;
};
SumAndNormed add_then_layer_norm(const at::Tensor& x, const at::Tensor& a,
                                 torch::nn::LayerNormImpl& norm);

// The row kernel itself on `rows` contiguous rows of n floats, on this thread: out[r] =
// (s - mean) / sqrt(var + eps) * weight + bias with s = in[r] (+ add[r] when add is not null,
// then also written to sum when sum is not null). mean and rstd, when not null, receive each
// row's mean and 1 / sqrt(var + eps).
void layer_norm_rows_of(const float* in, const float* add, float* sum, float* out,
                        const float* weight, const float* bias, int64_t rows, int64_t n, float eps,
                        float* mean, float* rstd);

// The same on the portable kernel, which CPUs without AVX-512 run (for tests on CPUs with it).
void layer_norm_rows_portable_of(const float* in, const float* add, float* sum, float* out,
                                 const float* weight, const float* bias, int64_t rows, int64_t n,
                                 float eps, float* mean, float* rstd);

}  // namespace vitc
