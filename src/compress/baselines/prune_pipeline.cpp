// Uniform pruning + slicing + finetuning of one budget.
#include "compress/baselines/prune_pipeline.h"

#include <cstdio>

#include "model/complexity.h"
#include "model/slice.h"
#include "train/evaluate.h"
#include "util/error.h"
#include "util/progress.h"

namespace vitc {

PruneResult prune_and_finetune(VisionTransformer teacher, const Budget& budget,
                               const UniformPruneOptions& prune,
                               const std::shared_ptr<const Dataset>& train_data,
                               const std::shared_ptr<const Dataset>& eval_data,
                               const FinetuneOptions& finetune) {
  finetune.validate();
  check(eval_data != nullptr, "pruning needs evaluation data");
  teacher->eval();
  const ViTConfig& source = teacher->config();
  const Complexity teacher_cost = compute_complexity(source);
  const int64_t eval_batch = finetune.train.eval_batch_size;
  // The structure first: a budget that cannot be met fails before any evaluation.
  Stopwatch prune_clock;
  const CostModel budget_cost = budget.cost_model();
  UniformPruneOptions prune_at = prune;
  prune_at.tolerance = budget.tolerance;
  const UniformPrune pruned = uniform_prune(
      *teacher, budget_cost, budget.resolve(source_cost(source, budget_cost)), prune_at);
  VisionTransformer compact = slice_model(*teacher, pruned.structure);
  compact->eval();
  PruneResult result;
  nlohmann::json& record = result.record;
  record["teacher"] = model_summary(source, evaluate(*teacher, *eval_data, eval_batch));
  record["pruning"] = pruned.to_json();
  record["pruning"]["criterion"] = to_string(prune.criterion);
  record["pruning"]["seed"] = prune.seed;
  record["pruning"]["budget"] = budget.to_string();
  record["pruning"]["seconds"] = prune_clock.seconds();
  record["structure"] = structure_to_json(pruned.structure);
  const EvalResult before = evaluate(*compact, *eval_data, eval_batch);
  record["pruning"]["eval"] = eval_to_json(before);
  const Complexity cost = compute_complexity(compact->config());
  if (!finetune.train.quiet) {
    std::fprintf(stderr,
                 "pruned (%s): %.3f M MACs (%.1f%% of the teacher), %.3f M params; top1 %.2f%% "
                 "before finetuning (teacher %.2f%%)\n",
                 to_string(prune.criterion).c_str(), cost.macs() / 1e6,
                 100.0 * cost.macs() / teacher_cost.macs(), cost.params() / 1e6, before.top1,
                 record["teacher"]["top1"].get<double>());
  }
  const nlohmann::json provenance = {
      {"compressed_by", str_cat("vitc prune (", to_string(prune.criterion), " baseline)")}};
  const FinetuneOutcome tuned = finetune_compact(compact, source, pruned.structure, teacher,
                                                 train_data, eval_data, finetune, before,
                                                 provenance);
  record["finetune"] = tuned.record;
  const nlohmann::json summary = compression_result(source, compact->config(), tuned.final_eval,
                                                    record["teacher"]["top1"].get<double>());
  record["result"] = summary;
  result.compact = compact;
  return result;
}

}  // namespace vitc
