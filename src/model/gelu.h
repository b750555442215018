// GELU (the erf form, timm's nn.GELU) by rows on the CPU, with the bias of the product before it
// added in the same pass.
//
// Why it exists: in a block's MLP, fc1's product went through a pass that added its bias, then
// ATen's gelu, which allocates its output and reads the product again. On a compressed model the
// per-call costs of that chain weigh on every block (docs/slicing_benchmark.md). In inference,
// gelu_of_linear writes gelu(x W^T + b) over the product itself, in one pass while it is in cache.
// Training computes the same floats (the bias pass, then this kernel; the backward is ATen's
// gelu_backward on the saved input), so that a student in training and its teacher in inference
// agree bit for bit, as softmax_rows.h and layer_norm_rows.h do.
//
// erf by a rational function fitted here (gelu.cpp): within 2.1e-7 |x| of the exact GELU (ATen's
// own vectorised kernel is within about 1e-7 |x|), in 0.50-0.61 of ATen's time (bench/gelu.cpp).
#pragma once

#include <cstdint>

#include <ATen/Tensor.h>
#include <torch/nn/modules/linear.h>

namespace vitc {

// gelu(x). Float32 CPU tensors outside bf16 autocast take the row kernel; other dtypes and
// devices go to ATen's gelu.
at::Tensor gelu(const at::Tensor& x);

// gelu(layer(x)): in inference on the row kernel's tensors, the product without its bias
// (vitc::linear) and then one pass that adds the bias and applies GELU in place.
at::Tensor gelu_of_linear(const at::Tensor& x, const torch::nn::Linear& layer);

// The row kernel itself on `rows` rows of n floats, on this thread: out[r][j] = gelu(in[r][j] +
// bias[j]), or gelu(in[r][j]) when bias is null. out may be in (in place).
void gelu_rows_of(const float* in, const float* bias, float* out, int64_t rows, int64_t n);

// The same on the portable kernel, which CPUs without AVX-512 run (for tests on CPUs with it).
void gelu_rows_portable_of(const float* in, const float* bias, float* out, int64_t rows, int64_t n);

}  // namespace vitc
