// A ResNet forward pass that methods can look into and change without touching the model: skip
// blocks, transform what enters or leaves a conv (before its BatchNorm), and observe what enters
// each BatchNorm. PRACTISE's 1x1-conv adaptors and DeepInversion's BatchNorm-statistics prior
// both walk the network this way; with no hooks it computes forward_features exactly.
#pragma once

#include <functional>
#include <set>

#include <ATen/Tensor.h>
#include <torch/nn/modules/batchnorm.h>

#include "model/families/resnet/resnet.h"

namespace vitc {

// Where a conv sits: block -1 is the stem; conv 0, 1(, 2) are the branch's, kDownsampleConv the
// shortcut's.
inline constexpr int kStemBlock = -1;
inline constexpr int kDownsampleConv = -1;

struct ResNetWalkHooks {
  std::set<int> skipped;  // blocks whose input passes through unchanged (droppable blocks)
  std::function<at::Tensor(int block, int conv, const at::Tensor& x)> conv_input;   // or null
  std::function<at::Tensor(int block, int conv, const at::Tensor& y)> conv_output;  // or null
  std::function<void(torch::nn::BatchNorm2dImpl& bn, const at::Tensor& input)> norm_input;  // or null
};

// The pre-pool feature map [B, C, h, w] of `model` on `images`, with the hooks applied.
at::Tensor resnet_walk_features(ResNetImpl& model, const at::Tensor& images,
                                const ResNetWalkHooks& hooks);

}  // namespace vitc
