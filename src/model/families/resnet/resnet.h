// The ResNet family's network (timm's and torchvision's ResNet with their parameter names, so
// their weights load as they are): stem, residual blocks sized by their ResNetBlockSpecs, global
// average pooling and the fc head. BatchNorm follows the module's mode: batch statistics (and
// running-statistics updates) in train(), running statistics in eval().
#pragma once

#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "model/families/resnet/resnet_config.h"

namespace vitc {

struct ResNetStructure;

// One residual block: relu(branch(x) + shortcut(x)), where the branch is conv1-bn1-relu-conv2-bn2
// (basic) or conv1-bn1-relu-conv2-bn2-relu-conv3-bn3 (bottleneck, stride on conv2 as timm's
// "ResNet v1.5"), and the shortcut is x or downsample (1x1 conv with the stride, BN).
class ResNetBlockImpl : public torch::nn::Module {
 public:
  ResNetBlockImpl(const ResNetConfig& config, int index);
  // `inner_masks` (optional, one [inner width] 0/1 tensor per inner conv) zero inner channels
  // after their activation: the masked view of filter pruning.
  at::Tensor forward(const at::Tensor& x, const std::vector<at::Tensor>* inner_masks = nullptr);
  at::Tensor branch(const at::Tensor& x, const std::vector<at::Tensor>* inner_masks = nullptr);
  at::Tensor shortcut(const at::Tensor& x);

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};  // conv3: bottleneck only
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
  torch::nn::Sequential downsample{nullptr};  // null when the shortcut is the identity
  // The convs of the branch in order and the BatchNorm after each.
  std::vector<torch::nn::Conv2d> convs() const;
  std::vector<torch::nn::BatchNorm2d> norms() const;
};
TORCH_MODULE(ResNetBlock);

// Usage:
//   ResNet model = make_resnet(named_resnet_config("fm_resnet"), seed);
//   at::Tensor logits = model->forward(images);            // [B, num_classes]
//   at::Tensor map = model->forward_features(images);      // [B, C, h, w] before pooling
// Code that runs the blocks itself (block dropping, feature mimicking) calls stem(), block(i)
// and head() in that order.
class ResNetImpl : public torch::nn::Module {
 public:
  explicit ResNetImpl(ResNetConfig config);

  // With a `structure` (model/families/resnet/resnet_structure.h), dropped blocks pass their
  // input on and pruned inner channels are zeroed: the masked model a compact one must equal.
  at::Tensor forward(const at::Tensor& images, const ResNetStructure* structure = nullptr);
  at::Tensor forward_features(const at::Tensor& images, const ResNetStructure* structure = nullptr);
  at::Tensor stem(const at::Tensor& images);
  at::Tensor head(const at::Tensor& features);  // average pool + fc

  // timm's initialisation: Kaiming-normal convs (fan out), BN weight 1 and bias 0 except the last
  // BN of each branch, whose weight starts at 0 (zero_init_last), PyTorch's default for fc.
  void init_weights(uint64_t seed);

  const ResNetConfig& config() const { return config_; }
  c10::Device device() const { return fc->weight.device(); }
  at::TensorOptions options() const { return fc->weight.options(); }
  ResNetBlock block(int i) const { return blocks_[static_cast<size_t>(i)]; }

  torch::nn::Conv2d conv1{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr};
  std::vector<torch::nn::Sequential> layers;  // registered as layer1, layer2, ...
  torch::nn::Linear fc{nullptr};

 private:
  ResNetConfig config_;
  std::vector<ResNetBlock> blocks_;  // the blocks of `layers`, in order
};
TORCH_MODULE(ResNet);

// A validated model of `config`, initialised with `seed`.
ResNet make_resnet(const ResNetConfig& config, uint64_t seed);

}  // namespace vitc
