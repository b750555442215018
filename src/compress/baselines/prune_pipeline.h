// A baseline end to end: uniform pruning of the teacher at a MACs or parameter budget, slicing, finetuning
// with the recipe the methods use (compress/common/finetune.h), and the compressed model dir.
#pragma once

#include <memory>

#include <nlohmann/json.hpp>

#include "compress/baselines/uniform_prune.h"
#include "compress/common/finetune.h"
#include "compress/common/budget.h"
#include "data/dataset.h"

namespace vitc {

struct PruneResult {
  VisionTransformer compact{nullptr};
  nlohmann::json record;  // teacher, pruning, finetune and result sections of run.json
};

// `teacher` is only read. The compact model is written to finetune.train.out_dir.
PruneResult prune_and_finetune(VisionTransformer teacher, const Budget& budget,
                               const UniformPruneOptions& prune,
                               const std::shared_ptr<const Dataset>& train_data,
                               const std::shared_ptr<const Dataset>& eval_data,
                               const FinetuneOptions& finetune);

}  // namespace vitc
