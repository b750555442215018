// Evaluation of a model on a data set: top-1, top-5, cross-entropy and throughput.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "data/dataset.h"
#include "dist/group.h"
#include "model/families/resnet/resnet.h"
#include "model/vit.h"

namespace vitc {

struct EvalResult {
  double top1 = 0;  // percent
  double top5 = 0;  // percent (100 when there are 5 classes or fewer)
  double loss = 0;  // mean cross-entropy of the inference logits
  int64_t images = 0;
  double seconds = 0;
  double images_per_s() const { return seconds > 0 ? images / seconds : 0; }
};

nlohmann::json eval_to_json(const EvalResult& r);

// What evaluation (and the training loop) needs of a model, whatever its family: the module
// (switched to eval mode and back), its name and classes for messages, where inputs go, and its
// inference logits.
struct Classifier {
  torch::nn::Module* module = nullptr;
  std::string name;
  int num_classes = 0;
  c10::Device device = c10::kCPU;
  std::function<at::Tensor(const at::Tensor& images)> logits;
};
Classifier classifier_of(VisionTransformerImpl& model, const ModelMasks* masks = nullptr);
Classifier classifier_of(ResNetImpl& model);

// Runs the model in eval mode without gradients over the whole data set.
EvalResult evaluate(const Classifier& model, const Dataset& data, int64_t batch_size,
                    bool show_progress = false);
EvalResult evaluate(VisionTransformerImpl& model, const Dataset& data, int64_t batch_size,
                    const ModelMasks* masks = nullptr, bool show_progress = false);

// evaluate() split over the ranks of `group` (null = one process, exactly evaluate()): rank r
// evaluates images r, r+N, r+2N, ... and the sums over the ranks give the numbers one process
// evaluating them all gives; `seconds` is the slowest rank's. Every rank must call it.
EvalResult evaluate_sharded(const Classifier& model, const std::shared_ptr<const Dataset>& data,
                            int64_t batch_size, dist::Group* group);
EvalResult evaluate_sharded(VisionTransformerImpl& model, const std::shared_ptr<const Dataset>& data,
                            int64_t batch_size, dist::Group* group,
                            const ModelMasks* masks = nullptr);

}  // namespace vitc
