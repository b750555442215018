// A model of any family, as the commands that take either (train, eval, the experiment's
// measurement) load it: from a model directory, a checkpoint or a named config, with its
// Classifier, input, exact MACs and parameters, and where it came from.
#pragma once

#include <string>

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include "model/families/resnet/resnet.h"
#include "model/model_input.h"
#include "model/vit.h"
#include "train/evaluate.h"
#include "train/trainer.h"

namespace vitc {

struct AnyModel {
  VisionTransformer vit{nullptr};  // one of the two holds the model
  ResNet resnet{nullptr};
  Classifier classifier;
  ModelInput input;
  int64_t macs = 0;
  int64_t params = 0;
  std::string source;          // the directory, the checkpoint, or "config <name> (seed S)"
  nlohmann::json model_json;   // model.json as read (or as an import or a config makes it)
  // The trainer's view with the family's classification loss.
  Trainee trainee(double label_smoothing);
};

// A ResNet spec (model/families/resnet/resnet_model_dir.h: is_resnet_spec) or any spec
// load_model_spec takes, moved to `device`.
AnyModel load_any_model(const std::string& spec, uint64_t seed, const c10::Device& device);

}  // namespace vitc
