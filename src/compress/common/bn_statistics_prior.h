// DeepInversion's feature-statistics prior for BatchNorm networks (Yin et al., CVPR'20), as
// DC-ViT's gen_metric applies it to CNNs: for every BatchNorm, the L2 norms of the differences
// between the batch mean and (biased) variance of its input over (N, H, W) and its running mean
// and variance, summed (the first BatchNorm's term times first_bn_multiplier) and weighted.
#pragma once

#include "compress/common/model_inversion.h"
#include "model/families/resnet/resnet.h"

namespace vitc {

// The prior alone for `images` (and the logits of the same forward pass).
std::pair<at::Tensor, at::Tensor> resnet_logits_and_bn_prior(ResNetImpl& model,
                                                             const at::Tensor& images,
                                                             double weight, double first_multiplier);

// The inversion subject of a ResNet teacher: logits plus the prior with options' weights.
InversionSubject resnet_inversion_subject(ResNetImpl& teacher, const InversionOptions& options);

}  // namespace vitc
