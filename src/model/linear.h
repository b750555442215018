// A Linear layer applied through ATen's at::linear. LibTorch's C++ frontend
// (torch::nn::Linear::forward) computes a 3-D input [B, N, in] as a matmul followed by a separate
// pass adding the bias; at::linear, what PyTorch's Python F.linear calls, folds a contiguous 3-D
// input into one addmm with the bias, saving that pass. Same values up to float rounding; no
// measurable change in the end-to-end ratios against eager (docs/threads.md).
#pragma once

#include <torch/nn/modules/linear.h>
#include <torch/torch.h>

namespace vitc {

inline at::Tensor apply_linear(const torch::nn::Linear& layer, const at::Tensor& x) {
  return torch::linear(x, layer->weight, layer->bias);
}

}  // namespace vitc
