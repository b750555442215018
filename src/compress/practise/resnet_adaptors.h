// PRACTISE's recoverability probe on ResNets, as the original method (Wang et al., CVPR'23) does
// it: with blocks dropped, identity-initialised 1x1 convolutions without bias (channel-mixing
// matrices) after the last conv (before its BatchNorm) of every kept block before the first
// dropped one in its stage and after that stage's downsample conv, and before conv1 of every
// kept block after the last dropped one in the stage (the residual branch only) and before the
// next stage's first block (its conv1 and downsample conv). Only the adaptors train; they score
// a candidate and are then thrown away, never absorbed.
#pragma once

#include <map>
#include <set>
#include <vector>

#include <ATen/Tensor.h>

#include "model/families/resnet/resnet.h"

namespace vitc {

struct ResNetAdaptors {
  std::map<int, at::Tensor> after_last;        // block -> [C, C] on its last conv's output
  std::map<int, at::Tensor> after_downsample;  // block -> [C, C] on its downsample conv's output
  std::map<int, at::Tensor> pre_conv1;         // block -> [C, C] on its conv1's input
  std::map<int, at::Tensor> pre_downsample;    // block -> [C, C] on its downsample conv's input
  std::vector<at::Tensor> parameters() const;  // every matrix (requires_grad)
  size_t count() const;
};

// Adaptors for dropping `dropped` (blocks of `model`'s config) from `model`: identity matrices on
// the model's device.
ResNetAdaptors make_resnet_adaptors(const ResNetImpl& model, const std::set<int>& dropped);

// The pre-pool feature map of `model` with `dropped` blocks skipped and `adaptors` applied.
at::Tensor adapted_resnet_features(ResNetImpl& model, const std::set<int>& dropped,
                                   const ResNetAdaptors& adaptors, const at::Tensor& images);

}  // namespace vitc
