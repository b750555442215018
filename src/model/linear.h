// Linear layers: y = x W^T + b, applied through vitc::linear.
//
// Why it exists: on 2 cores the fastest split measured for small ViTs is torch's intra-op pool on
// both cores with OpenBLAS single-threaded (element-wise work then runs on both cores, and no
// OpenBLAS thread spins in sched_yield between products, docs/threads.md). OpenBLAS then computes
// each product on one core, so here a float32 CPU product is cut into bands of rows (of x in the
// forward pass and for x's gradient, of W for W's gradient), one per intra-op thread, each one
// ATen addmm/mm. Training and inference take the same path, so a teacher and its student still
// agree exactly (values match ATen's linear within float rounding, tests/model/linear_test.cpp). With one intra-op thread, inside a parallel region, on CUDA, in bf16 autocast or for
// other dtypes it is ATen's at::linear (a contiguous 3-D input folded into one addmm with the
// bias).
#pragma once

#include <torch/nn/modules/linear.h>
#include <ATen/Tensor.h>

namespace vitc {

at::Tensor linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias);

inline at::Tensor apply_linear(const torch::nn::Linear& layer, const at::Tensor& x) {
  return linear(x, layer->weight, layer->bias);
}

// Whether linear() cuts this product into row bands (for tests and benchmarks).
bool linear_splits_rows(const at::Tensor& x, const at::Tensor& weight);

}  // namespace vitc
