// ResNet modules: blocks, stem, head, masked forward and initialisation.
#include "model/families/resnet/resnet.h"

#include <algorithm>
#include <cmath>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "model/batch_chunks.h"
#include "model/families/resnet/resnet_structure.h"
#include "util/error.h"

namespace vitc {
namespace {

torch::nn::Conv2d conv(int in, int out, int kernel, int stride) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel)
                               .stride(stride)
                               .padding(kernel / 2)
                               .bias(false));
}

torch::nn::BatchNorm2d batch_norm(int channels, double eps) {
  return torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(channels).eps(eps).momentum(0.1));
}

// Channels of `x` [B, C, H, W] multiplied by `mask` [C].
at::Tensor mask_channels(const at::Tensor& x, const at::Tensor& mask) {
  return x * mask.to(x.options()).view({1, -1, 1, 1});
}

std::vector<at::Tensor> inner_masks_of(const ResNetConfig& config, const ResNetStructure& s, int i,
                                       const at::TensorOptions& options) {
  std::vector<at::Tensor> masks;
  for (size_t k = 0; k < s.blocks[i].inner.size(); ++k) {
    at::Tensor m = at::zeros({config.blocks[i].inner[k]}, options);
    for (int c : s.blocks[i].inner[k]) m[c] = 1.0;
    masks.push_back(m);
  }
  return masks;
}

}  // namespace

ResNetBlockImpl::ResNetBlockImpl(const ResNetConfig& config, int i) {
  const ResNetBlockSpec& b = config.blocks[i];
  const int in = config.block_in(i), out = config.block_out(i), stride = config.block_stride(i);
  const double eps = config.bn_eps;
  if (config.block == "bottleneck") {
    conv1 = register_module("conv1", conv(in, b.inner[0], 1, 1));
    bn1 = register_module("bn1", batch_norm(b.inner[0], eps));
    conv2 = register_module("conv2", conv(b.inner[0], b.inner[1], 3, stride));
    bn2 = register_module("bn2", batch_norm(b.inner[1], eps));
    conv3 = register_module("conv3", conv(b.inner[1], out, 1, 1));
    bn3 = register_module("bn3", batch_norm(out, eps));
  } else {
    conv1 = register_module("conv1", conv(in, b.inner[0], 3, stride));
    bn1 = register_module("bn1", batch_norm(b.inner[0], eps));
    conv2 = register_module("conv2", conv(b.inner[0], out, 3, 1));
    bn2 = register_module("bn2", batch_norm(out, eps));
  }
  if (config.block_downsamples(i)) {
    downsample = register_module(
        "downsample", torch::nn::Sequential(conv(in, out, 1, stride), batch_norm(out, eps)));
  }
}

std::vector<torch::nn::Conv2d> ResNetBlockImpl::convs() const {
  if (conv3) return {conv1, conv2, conv3};
  return {conv1, conv2};
}

std::vector<torch::nn::BatchNorm2d> ResNetBlockImpl::norms() const {
  if (bn3) return {bn1, bn2, bn3};
  return {bn1, bn2};
}

at::Tensor ResNetBlockImpl::branch(const at::Tensor& x, const std::vector<at::Tensor>* inner_masks) {
  auto c = convs();
  auto n = norms();
  at::Tensor y = x;
  for (size_t k = 0; k < c.size(); ++k) {
    y = n[k]->forward(c[k]->forward(y));
    if (k + 1 < c.size()) {
      y = at::relu(y);
      if (inner_masks) y = mask_channels(y, (*inner_masks)[k]);
    }
  }
  return y;
}

at::Tensor ResNetBlockImpl::shortcut(const at::Tensor& x) {
  return downsample ? downsample->forward(x) : x;
}

at::Tensor ResNetBlockImpl::forward(const at::Tensor& x, const std::vector<at::Tensor>* inner_masks) {
  return at::relu(branch(x, inner_masks) + shortcut(x));
}

ResNetImpl::ResNetImpl(ResNetConfig config) : config_(std::move(config)) {
  config_.validate();
  const bool imagenet = config_.stem == "imagenet";
  conv1 = register_module("conv1", conv(config_.in_chans, config_.stem_width, imagenet ? 7 : 3,
                                        imagenet ? 2 : 1));
  bn1 = register_module("bn1", batch_norm(config_.stem_width, config_.bn_eps));
  for (int s = 0; s < config_.num_stages(); ++s) {
    layers.push_back(register_module(str_cat("layer", s + 1), torch::nn::Sequential()));
  }
  for (int i = 0; i < config_.depth(); ++i) {
    ResNetBlock block(config_, i);
    layers[static_cast<size_t>(config_.blocks[i].stage)]->push_back(block);
    blocks_.push_back(block);
  }
  fc = register_module("fc", torch::nn::Linear(config_.final_channels(), config_.num_classes));
}

at::Tensor ResNetImpl::stem(const at::Tensor& images) {
  check(images.dim() == 4 && images.size(1) == config_.in_chans &&
            images.size(2) == config_.img_size && images.size(3) == config_.img_size,
        "model '", config_.name, "' takes images [B, ", config_.in_chans, ", ", config_.img_size,
        ", ", config_.img_size, "], got ", images.sizes());
  at::Tensor x = at::relu(bn1->forward(conv1->forward(images)));
  if (config_.stem == "imagenet") x = at::max_pool2d(x, {3, 3}, {2, 2}, {1, 1});
  return x;
}

at::Tensor ResNetImpl::head(const at::Tensor& features) {
  return fc->forward(features.mean({2, 3}));
}

int64_t largest_activation_bytes(const ResNetConfig& c) {
  const int64_t stem_conv_side = c.stem == "imagenet" ? 2 * c.stem_side() : c.stem_side();
  int64_t largest = int64_t{c.stem_width} * stem_conv_side * stem_conv_side;
  for (int i = 0; i < c.depth(); ++i) {
    const int64_t side_in = c.block_side_in(i), side_out = c.block_side_out(i);
    largest = std::max(largest, int64_t{c.block_out(i)} * side_out * side_out);
    for (int width : c.blocks[static_cast<size_t>(i)].inner) {
      largest = std::max(largest, int64_t{width} * side_in * side_in);
    }
  }
  return largest * static_cast<int64_t>(sizeof(float));
}

at::Tensor ResNetImpl::forward_features(const at::Tensor& images, const ResNetStructure* structure) {
  if (structure) validate_resnet_structure(*structure, config_);
  if (infers_in_batch_chunks(*this, conv1->weight.device(), images)) {
    // Inference (BatchNorm on running statistics): a thread per slice of the batch.
    return in_batch_chunks(
        images,
        [this, structure](const at::Tensor& chunk) { return forward_features(chunk, structure); },
        largest_activation_bytes(config_));
  }
  at::Tensor x = stem(images);
  for (int i = 0; i < config_.depth(); ++i) {
    if (!structure) {
      x = blocks_[static_cast<size_t>(i)]->forward(x);
    } else if (structure->blocks[i].kept) {
      const auto masks = inner_masks_of(config_, *structure, i, x.options());
      x = blocks_[static_cast<size_t>(i)]->forward(x, &masks);
    }
  }
  return x;
}

at::Tensor ResNetImpl::forward(const at::Tensor& images, const ResNetStructure* structure) {
  return head(forward_features(images, structure));
}

void ResNetImpl::init_weights(uint64_t seed) {
  at::NoGradGuard no_grad;
  at::Generator gen = at::detail::createCPUGenerator(seed);
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* c = module->as<torch::nn::Conv2d>()) {
      auto& w = c->weight;
      const double fan_out = static_cast<double>(w.size(0) * w.size(2) * w.size(3));
      w.copy_(at::empty(w.sizes()).normal_(0.0, std::sqrt(2.0 / fan_out), gen));
    } else if (auto* bn = module->as<torch::nn::BatchNorm2d>()) {
      bn->weight.fill_(1.0);
      bn->bias.zero_();
    }
  }
  for (auto& block : blocks_) block->norms().back()->weight.zero_();
  const double bound = 1.0 / std::sqrt(static_cast<double>(config_.final_channels()));
  fc->weight.copy_(at::empty(fc->weight.sizes()).uniform_(-bound, bound, gen));
  fc->bias.copy_(at::empty(fc->bias.sizes()).uniform_(-bound, bound, gen));
}

ResNet make_resnet(const ResNetConfig& config, uint64_t seed) {
  ResNet model(config);
  model->init_weights(seed);
  return model;
}

}  // namespace vitc
