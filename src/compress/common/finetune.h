// The last step every method shares: finetune a sliced compact model with the shared trainer
// (cross-entropy, optionally distilled from the teacher) and write it as a compressed model
// directory (weights, model.json with the Structure and source config).
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "compress/common/distill.h"
#include "data/dataset.h"
#include "model/structure.h"
#include "train/evaluate.h"
#include "train/trainer.h"

namespace vitc {

struct FinetuneOptions {
  TrainOptions train;   // train.epochs == 0: no finetuning, the compact model is saved as it is
  DistillOptions loss;  // its label_smoothing is train.label_smoothing
  void validate() const;
};

// {"config", "macs", "params", "top1", "top5", "loss"} of a model and its evaluation.
nlohmann::json model_summary(const ViTConfig& config, const EvalResult& eval);

struct FinetuneOutcome {
  EvalResult final_eval;   // after finetuning (or `before` when there is none)
  nlohmann::json record;   // {"settings", "loss", "result"} of the finetuning, or null
};

// Finetunes `compact` (the slice of `source` by `structure`) on train_data, evaluating on
// eval_data each epoch, and writes options.train.out_dir as a compressed model directory whose
// model.json also carries `provenance`. Checkpoints are compressed model directories too, so
// --resume works. `teacher` is read only (may be {nullptr} when options.loss.alpha == 0).
// `before` is the compact model's evaluation before finetuning.
FinetuneOutcome finetune_compact(VisionTransformer compact, const ViTConfig& source,
                                 const Structure& structure, VisionTransformer teacher,
                                 const std::shared_ptr<const Dataset>& train_data,
                                 const std::shared_ptr<const Dataset>& eval_data,
                                 const FinetuneOptions& options, const EvalResult& before,
                                 const nlohmann::json& provenance);

}  // namespace vitc
