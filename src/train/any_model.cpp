// Loading a model of either family.
#include "train/any_model.h"

#include "model/complexity.h"
#include "model/families/resnet/resnet_complexity.h"
#include "model/families/resnet/resnet_model_dir.h"
#include "model/model_dir.h"

namespace vitc {

Trainee AnyModel::trainee(double label_smoothing) {
  return resnet ? trainee_of(resnet, label_smoothing) : trainee_of(vit, nullptr, label_smoothing);
}

AnyModel load_any_model(const std::string& spec, uint64_t seed, const c10::Device& device) {
  AnyModel m;
  if (is_resnet_spec(spec)) {
    LoadedResNet loaded = load_resnet_spec(spec, seed);
    m.resnet = loaded.model;
    m.resnet->to(device);
    const ResNetConfig& c = m.resnet->config();
    const ResNetCost cost = resnet_cost(c);
    m.classifier = classifier_of(*m.resnet);
    m.input = ModelInput(c);
    m.macs = cost.macs, m.params = cost.params;
    m.source = loaded.source, m.model_json = loaded.model_json;
    return m;
  }
  LoadedModel loaded = load_model_spec(spec, seed);
  m.vit = loaded.model;
  m.vit->to(device);
  const ViTConfig& c = m.vit->config();
  const Complexity cost = compute_complexity(c);
  m.classifier = classifier_of(*m.vit);
  m.input = ModelInput(c);
  m.macs = cost.macs(), m.params = cost.params();
  m.source = loaded.source, m.model_json = loaded.model_json;
  return m;
}

}  // namespace vitc
