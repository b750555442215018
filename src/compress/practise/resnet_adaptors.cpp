// ResNet adaptors: where they go and the forward pass that applies them.
#include "compress/practise/resnet_adaptors.h"

#include <torch/torch.h>

#include "compress/common/resnet_walk.h"

namespace vitc {
namespace {

at::Tensor identity(int channels, const at::TensorOptions& options) {
  return at::eye(channels, options).requires_grad_(true);
}

// A 1x1 convolution without bias: [B, C, H, W] -> [B, C, H, W] mixed by `matrix` [C, C].
at::Tensor mix(const at::Tensor& x, const std::map<int, at::Tensor>& adaptors, int block) {
  auto it = adaptors.find(block);
  if (it == adaptors.end()) return x;
  return at::conv2d(x, it->second.view({it->second.size(0), it->second.size(1), 1, 1}));
}

}  // namespace

std::vector<at::Tensor> ResNetAdaptors::parameters() const {
  std::vector<at::Tensor> out;
  for (const auto* group : {&after_last, &after_downsample, &pre_conv1, &pre_downsample}) {
    for (const auto& [block, matrix] : *group) out.push_back(matrix);
  }
  return out;
}

size_t ResNetAdaptors::count() const {
  return after_last.size() + after_downsample.size() + pre_conv1.size() + pre_downsample.size();
}

ResNetAdaptors make_resnet_adaptors(const ResNetImpl& model, const std::set<int>& dropped) {
  const ResNetConfig& c = model.config();
  const at::TensorOptions options = model.options();
  ResNetAdaptors a;
  for (int s = 0; s < c.num_stages(); ++s) {
    int first_dropped = -1, last_dropped = -1;
    for (int i = 0; i < c.depth(); ++i) {
      if (c.blocks[i].stage != s || !dropped.count(i)) continue;
      if (first_dropped < 0) first_dropped = i;
      last_dropped = i;
    }
    if (first_dropped < 0) continue;
    for (int i = c.stage_first_block(s); i < first_dropped; ++i) {
      if (dropped.count(i)) continue;
      a.after_last[i] = identity(c.block_out(i), options);
      if (c.block_downsamples(i)) a.after_downsample[i] = identity(c.block_out(i), options);
    }
    for (int i = last_dropped + 1; i < c.depth() && c.blocks[i].stage == s; ++i) {
      if (!dropped.count(i)) a.pre_conv1[i] = identity(c.block_in(i), options);
    }
    if (s + 1 < c.num_stages()) {
      const int next = c.stage_first_block(s + 1);
      a.pre_conv1[next] = identity(c.block_in(next), options);
      if (c.block_downsamples(next)) a.pre_downsample[next] = identity(c.block_in(next), options);
    }
  }
  return a;
}

at::Tensor adapted_resnet_features(ResNetImpl& model, const std::set<int>& dropped,
                                   const ResNetAdaptors& a, const at::Tensor& images) {
  ResNetWalkHooks hooks;
  hooks.skipped = dropped;
  hooks.conv_input = [&a](int block, int conv, const at::Tensor& x) {
    if (conv == 0) return mix(x, a.pre_conv1, block);  // the branch only
    return conv == kDownsampleConv ? mix(x, a.pre_downsample, block) : x;
  };
  hooks.conv_output = [&a, &model](int block, int conv, const at::Tensor& y) {
    if (conv == kDownsampleConv) return mix(y, a.after_downsample, block);
    if (block != kStemBlock && conv + 1 == model.config().inner_convs() + 1) {
      return mix(y, a.after_last, block);  // the branch's last conv
    }
    return y;
  };
  return resnet_walk_features(model, images, hooks);
}

}  // namespace vitc
