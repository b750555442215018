// DeepInversion's feature-statistics prior for BatchNorm networks (Yin et al., CVPR'20), as
// DC-ViT's gen_metric applies it to CNNs: for every BatchNorm, the L2 norms of the differences
// between the batch mean and (biased) variance of its input over (N, H, W) and its running mean
// and variance, summed (the first BatchNorm's term times first_bn_multiplier) and weighted.
#pragma once

#include "compress/common/model_inversion.h"
#include "model/families/resnet/resnet.h"
#include "util/settings.h"

namespace vitc {

// The prior alone for `images` (and the logits of the same forward pass).
std::pair<at::Tensor, at::Tensor> resnet_logits_and_bn_prior(ResNetImpl& model,
                                                             const at::Tensor& images,
                                                             double weight, double first_multiplier);

// The prior's weights: DeepInversion's r_feature as the reference's default (0.05) and the first
// BatchNorm's term x10 (first_bn_multiplier). The --synth-bn / --synth-first-bn flags.
struct BnPriorOptions {
  double weight = 0.05;
  double first_multiplier = 10;

  template <class Self, class Visitor>
  static void visit_settings(Self& self, Visitor& v) {
    v(Setting{"bn", "weight of the BatchNorm-statistics prior (ResNets; DeepInversion's r_feature)",
              Range::at_least(0), "bn_weight"},
      self.weight);
    v(Setting{"first-bn", "multiplier of the first BatchNorm's statistics term (ResNets)",
              Range::at_least(0), "first_bn_multiplier"},
      self.first_multiplier);
  }
  static constexpr const char* kFlagPrefix = "synth-";
  void validate() const;  // names the flags
  nlohmann::json to_json() const;
};

// The inversion subject of a ResNet teacher: logits plus the prior; the set's info records the
// weights as "prior_settings".
InversionSubject resnet_inversion_subject(ResNetImpl& teacher, const BnPriorOptions& options);

}  // namespace vitc
