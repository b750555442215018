// Evaluation of a model on a data set: top-1, top-5, cross-entropy and throughput.
#pragma once

#include <memory>

#include <nlohmann/json_fwd.hpp>

#include "data/dataset.h"
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

// Runs the model in eval mode without gradients over the whole data set.
EvalResult evaluate(VisionTransformerImpl& model, const Dataset& data, int64_t batch_size,
                    const ModelMasks* masks = nullptr, bool show_progress = false);

}  // namespace vitc
