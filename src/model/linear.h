// A Linear layer applied through ATen's at::linear. LibTorch's C++ frontend
// (torch::nn::Linear::forward) computes a 3-D input [B, N, in] as a matmul followed by a separate
// pass adding the bias; at::linear, what PyTorch's Python F.linear calls, folds a contiguous 3-D
// input into one addmm with the bias. On deit_small's training step (batch 32) the separate adds
// cost ~0.7-1.2 s of ~17.6 s (docs/threads.md). Same values up to float rounding.
#pragma once

#include <torch/nn/modules/linear.h>
#include <torch/torch.h>

namespace vitc {

inline at::Tensor apply_linear(const torch::nn::Linear& layer, const at::Tensor& x) {
  return torch::linear(x, layer->weight, layer->bias);
}

}  // namespace vitc
