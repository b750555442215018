// Linear layers: y = x W^T + b, applied through vitc::linear.
//
// Why it exists: on 2 cores the fastest split measured for small ViTs is torch's intra-op pool on
// both cores with OpenBLAS single-threaded (element-wise work then runs on both cores, and no
// OpenBLAS thread spins in sched_yield between products, docs/threads.md). So a float32 CPU
// product is cut into bands of rows (of x in the forward pass and for x's gradient, of W for W's
// gradient), one per intra-op thread. Each forward band, and an inference product that is not
// cut (one thread, or inside a batch slice), is one sgemm call of its own: oneDNN's dnnl_sgemm
// where LibTorch's oneDNN is visible (0.67-0.89 of OpenBLAS's time on this CPU), else OpenBLAS's
// cblas_sgemm, the bias added to the product's rows in a pass of its own (model/cblas_sgemm.h,
// docs/slicing_benchmark.md). Training and inference take the same calls, so on one thread a
// student and its teacher agree bit for bit (tests/model/linear_test.cpp). On CUDA, in bf16
// autocast, for other dtypes, or without either BLAS entry point it is ATen's at::linear.
#pragma once

#include <torch/nn/modules/linear.h>
#include <ATen/Tensor.h>

namespace vitc {

at::Tensor linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);

inline at::Tensor apply_linear(const torch::nn::Linear& layer, const at::Tensor& x) {
  return linear(x, layer->weight, layer->bias);
}

// residual + layer(x), residual of layer(x)'s shape: in inference on the sgemm path's tensors,
// the product without its bias and then one pass residual + (product + bias) over it (the floats
// of the two steps, without ATen's addition's dispatch, its new tensor and the bias pass);
// otherwise the two steps.
at::Tensor linear_added_to(const at::Tensor& residual, const at::Tensor& x,
                           const torch::nn::Linear& layer);

// Whether linear(x, weight, bias) computes the product without its bias and adds the bias in a
// pass of its own (the sgemm path, bias defined): then a caller that computes
// linear(x, weight, undefined) and adds the bias itself, fused with what follows, gets the same
// floats as linear() with the bias, so training and inference still agree.
bool linear_adds_bias_after_product(const at::Tensor& x, const at::Tensor& weight,
                                    const at::Tensor& bias);

// Whether linear() cuts this product into row bands (for tests and benchmarks).
bool linear_splits_rows(const at::Tensor& x, const at::Tensor& weight);

}  // namespace vitc
