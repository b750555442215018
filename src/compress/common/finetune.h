// The last step every method shares: finetune a sliced compact model with the shared trainer
// (cross-entropy, optionally distilled from the teacher) and write it as a compressed model
// directory (weights, model.json with the Structure and source config).
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "compress/common/distill.h"
#include "compress/common/finalize.h"
#include "data/dataset.h"
#include "model/structure.h"
#include "train/evaluate.h"
#include "train/trainer.h"

namespace vitc {

namespace setting {
inline const Setting kFinetuneEpochs =
    kEpochs.with_help("finetuning epochs (0 = none: the compact model is saved as it is)")
        .with_range(Range::at_least(0));
}  // namespace setting

struct FinetuneOptions {
  TrainOptions train;   // train.epochs == 0: no finetuning, the compact model is saved as it is
  DistillOptions loss;  // its label_smoothing is train.label_smoothing
  // The loss of a batch from the teacher and `loss`: make_distillation_loss, or a method's own
  // (UVC's goes through a distilled student's distillation head).
  LossFn (*make_loss)(VisionTransformer teacher, const DistillOptions& loss) =
      make_distillation_loss;
  std::string label = "finetune";  // progress label

  // The finetuning settings as flags (--finetune-*) and JSON: the trainer's, epochs 0 allowed,
  // and the distillation weight and temperature.
  template <class Self, class Visitor>
  static void visit_settings(Self& self, Visitor& v) {
    TrainOptions::visit_settings(self.train, v, setting::kFinetuneEpochs);
    DistillOptions::visit_kd_settings(self.loss, v);
  }
  // Names a wrong setting as the flag --<flag_prefix><name>.
  void validate(const std::string& flag_prefix = "finetune-") const;
};

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
