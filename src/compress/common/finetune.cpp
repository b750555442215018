// Finetuning of a compact model and its compressed model directory.
#include "compress/common/finetune.h"

#include "compress/common/data_parallel.h"
#include "model/complexity.h"
#include "model/slice.h"
#include "util/error.h"

namespace vitc {

void FinetuneOptions::validate(const std::string& flag_prefix) const {
  check(train.epochs >= 0, "--", flag_prefix, "epochs must be at least 0 (0 = no finetuning), got ",
        train.epochs);
  if (train.epochs > 0) train.validate(flag_prefix);
  check(!train.out_dir.empty(), "an output directory (--out) is required");
  loss.validate(flag_prefix);
}

FinetuneOutcome finetune_compact(VisionTransformer compact, const ViTConfig& source,
                                 const Structure& structure, VisionTransformer teacher,
                                 const std::shared_ptr<const Dataset>& train_data,
                                 const std::shared_ptr<const Dataset>& eval_data,
                                 const FinetuneOptions& options, const EvalResult& before,
                                 const nlohmann::json& provenance) {
  options.validate();
  FinetuneOutcome outcome;
  outcome.final_eval = before;
  outcome.record = nullptr;
  if (options.train.epochs == 0) {
    dist::Group* group = options.train.dist.get();
    if (is_lead(group))
      save_compressed_model_dir(options.train.out_dir, *compact, source, structure, provenance);
    barrier(group);  // the model directory is complete when any rank returns
    compact->eval();
    return outcome;
  }
  TrainOptions train = options.train;
  // What save_compressed_model_dir adds, so that checkpoints and the final model load as
  // compressed model directories.
  train.model_json_extra = provenance;
  train.model_json_extra["structure"] = structure_to_json(structure);
  train.model_json_extra["source_config"] = config_to_json(source);
  train.label = options.label;
  DistillOptions loss = options.loss;
  loss.label_smoothing = train.label_smoothing;
  compact->train();
  const TrainResult trained =
      train_model(compact, train_data, eval_data, train, options.make_loss(teacher, loss));
  compact->eval();
  outcome.record = {{"settings", train.trajectory_json()},
                    {"loss", loss.to_json()},
                    {"result", train_result_to_json(trained)}};
  outcome.final_eval = trained.final_eval;
  return outcome;
}

}  // namespace vitc
