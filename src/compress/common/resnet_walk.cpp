// The hooked ResNet forward pass.
#include "compress/common/resnet_walk.h"

#include <torch/torch.h>

#include "util/error.h"

namespace vitc {
namespace {

// conv -> (hooks) -> BatchNorm, the unit every ResNet conv is part of.
at::Tensor conv_norm(torch::nn::Conv2dImpl& conv, torch::nn::BatchNorm2dImpl& norm, int block,
                     int index, const at::Tensor& x, const ResNetWalkHooks& h) {
  at::Tensor y = conv.forward(h.conv_input ? h.conv_input(block, index, x) : x);
  if (h.conv_output) y = h.conv_output(block, index, y);
  if (h.norm_input) h.norm_input(norm, y);
  return norm.forward(y);
}

}  // namespace

at::Tensor resnet_walk_features(ResNetImpl& model, const at::Tensor& images,
                                const ResNetWalkHooks& hooks) {
  const ResNetConfig& c = model.config();
  check(images.dim() == 4 && images.size(1) == c.in_chans && images.size(2) == c.img_size &&
            images.size(3) == c.img_size,
        "model '", c.name, "' takes images [B, ", c.in_chans, ", ", c.img_size, ", ", c.img_size,
        "], got ", images.sizes());
  at::Tensor x = at::relu(conv_norm(*model.conv1, *model.bn1, kStemBlock, 0, images, hooks));
  if (c.stem == "imagenet") x = at::max_pool2d(x, {3, 3}, {2, 2}, {1, 1});
  for (int i = 0; i < c.depth(); ++i) {
    if (hooks.skipped.count(i)) continue;
    ResNetBlock block = model.block(i);
    auto convs = block->convs();
    auto norms = block->norms();
    at::Tensor y = x;
    for (size_t k = 0; k < convs.size(); ++k) {
      y = conv_norm(*convs[k], *norms[k], i, static_cast<int>(k), y, hooks);
      if (k + 1 < convs.size()) y = at::relu(y);
    }
    at::Tensor shortcut = x;
    if (block->downsample) {
      shortcut = conv_norm(*block->downsample->ptr(0)->as<torch::nn::Conv2dImpl>(),
                           *block->downsample->ptr(1)->as<torch::nn::BatchNorm2dImpl>(), i,
                           kDownsampleConv, x, hooks);
    }
    x = at::relu(y + shortcut);
  }
  return x;
}

}  // namespace vitc
