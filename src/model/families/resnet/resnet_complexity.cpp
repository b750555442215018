// ResNet MACs and parameters from the config alone.
#include "model/families/resnet/resnet_complexity.h"

namespace vitc {
namespace {

// A bias-free conv followed by a BatchNorm, producing a side x side map.
void add_conv_bn(ResNetCost& cost, int64_t in, int64_t out, int64_t kernel, int64_t side) {
  cost.macs += side * side * out * in * kernel * kernel;
  cost.params += out * in * kernel * kernel + 2 * out;
}

}  // namespace

ResNetCost resnet_stem_cost(const ResNetConfig& c) {
  ResNetCost cost;
  const bool imagenet = c.stem == "imagenet";
  const int conv_side = imagenet ? (c.img_size - 1) / 2 + 1 : c.img_size;
  add_conv_bn(cost, c.in_chans, c.stem_width, imagenet ? 7 : 3, conv_side);
  return cost;
}

ResNetCost resnet_block_cost(const ResNetConfig& c, int i) {
  ResNetCost cost;
  const ResNetBlockSpec& b = c.blocks[i];
  const int64_t in = c.block_in(i), out = c.block_out(i);
  const int64_t side = c.block_side_out(i);
  if (c.block == "bottleneck") {
    add_conv_bn(cost, in, b.inner[0], 1, c.block_side_in(i));
    add_conv_bn(cost, b.inner[0], b.inner[1], 3, side);
    add_conv_bn(cost, b.inner[1], out, 1, side);
  } else {
    add_conv_bn(cost, in, b.inner[0], 3, side);
    add_conv_bn(cost, b.inner[0], out, 3, side);
  }
  if (c.block_downsamples(i)) add_conv_bn(cost, in, out, 1, side);
  return cost;
}

ResNetCost resnet_head_cost(const ResNetConfig& c) {
  return {static_cast<int64_t>(c.final_channels()) * c.num_classes,
          static_cast<int64_t>(c.final_channels() + 1) * c.num_classes};
}

ResNetCost resnet_cost(const ResNetConfig& c) {
  ResNetCost total = resnet_stem_cost(c);
  for (int i = 0; i < c.depth(); ++i) {
    const ResNetCost b = resnet_block_cost(c, i);
    total.macs += b.macs;
    total.params += b.params;
  }
  const ResNetCost h = resnet_head_cost(c);
  total.macs += h.macs;
  total.params += h.params;
  return total;
}

}  // namespace vitc
