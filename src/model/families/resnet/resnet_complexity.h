// Analytic parameters and multiply-accumulates of a ResNet config, as timm counts them:
// parameters of convs, BatchNorm affine weights and fc (running statistics are buffers);
// MACs of convs (H_out * W_out * C_out * C_in * k * k) and fc, not of BN, ReLU, pooling or adds.
#pragma once

#include <cstdint>

#include "model/families/resnet/resnet_config.h"

namespace vitc {

struct ResNetCost {
  int64_t macs = 0;
  int64_t params = 0;
};

ResNetCost resnet_stem_cost(const ResNetConfig& config);
ResNetCost resnet_block_cost(const ResNetConfig& config, int i);  // branch and downsample
ResNetCost resnet_head_cost(const ResNetConfig& config);
ResNetCost resnet_cost(const ResNetConfig& config);  // the whole network

}  // namespace vitc
