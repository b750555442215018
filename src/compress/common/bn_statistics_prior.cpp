// The BatchNorm-statistics prior through the hooked ResNet walk.
#include "compress/common/bn_statistics_prior.h"

#include <torch/torch.h>

#include "compress/common/resnet_walk.h"
#include "util/settings_from_json.h"

namespace vitc {

std::pair<at::Tensor, at::Tensor> resnet_logits_and_bn_prior(ResNetImpl& model,
                                                             const at::Tensor& images,
                                                             double weight, double first_multiplier) {
  at::Tensor prior;
  bool first = true;
  ResNetWalkHooks hooks;
  hooks.norm_input = [&](torch::nn::BatchNorm2dImpl& bn, const at::Tensor& x) {
    const at::Tensor mean = x.mean({0, 2, 3});
    const at::Tensor var = x.permute({1, 0, 2, 3}).reshape({x.size(1), -1}).var(1, /*unbiased=*/false);
    const at::Tensor term = (var - bn.running_var).norm() + (mean - bn.running_mean).norm();
    const at::Tensor scaled = first ? term * first_multiplier : term;
    prior = prior.defined() ? prior + scaled : scaled;
    first = false;
  };
  const at::Tensor logits = model.head(resnet_walk_features(model, images, hooks));
  return {logits, prior * weight};
}

void BnPriorOptions::validate() const { validate_settings(*this, kFlagPrefix); }

nlohmann::json BnPriorOptions::to_json() const { return settings_to_json(*this); }

InversionSubject resnet_inversion_subject(ResNetImpl& teacher, const BnPriorOptions& options) {
  options.validate();
  const double weight = options.weight, first = options.first_multiplier;
  InversionSubject s;
  s.module = &teacher;
  s.input = ModelInput(teacher.config());
  s.device = teacher.device();
  s.forward = [&teacher, weight, first](const at::Tensor& x) {
    return resnet_logits_and_bn_prior(teacher, x, weight, first);
  };
  s.batch_prior = weight > 0;
  s.prior_settings = options.to_json();
  return s;
}

}  // namespace vitc
