// Search, budget projection, slicing, slice check, finetuning and the run record.
#include "compress/uvc/pipeline.h"

#include <torch/torch.h>

#include "compress/common/data_parallel.h"
#include "compress/uvc/decision.h"
#include "compress/common/finalize.h"
#include "compress/uvc/loss.h"
#include "compress/uvc/repair.h"
#include "model/complexity.h"
#include "model/slice.h"
#include "model/structure_masks.h"
#include "train/evaluate.h"
#include "util/error.h"
#include "util/progress.h"

namespace vitc {

FinetuneOptions uvc_finetune_defaults() {
  FinetuneOptions f;
  TrainOptions& t = f.train;
  t.epochs = 3;
  t.lr = 1e-4;
  t.min_lr = 1e-5;
  t.warmup_epochs = 0;
  f.loss.alpha = 0.1;
  f.make_loss = make_uvc_loss;
  f.label = "uvc finetune";
  return f;
}

void UvcRunOptions::validate() const {
  search.validate();
  finetune.validate();
  check(budget_tolerance > 0 && budget_tolerance < 1, "--budget-tolerance must lie in (0, 1), got ",
        budget_tolerance);
  check(round_to >= 1, "--round-to must be a positive integer, got ", round_to);
}

UvcRunResult run_uvc(VisionTransformer teacher, const nlohmann::json& teacher_info,
                     const std::shared_ptr<const Dataset>& train_data,
                     const std::shared_ptr<const Dataset>& eval_data, const UvcRunOptions& options) {
  options.validate();
  check(eval_data != nullptr, "UVC needs evaluation data");
  const ViTConfig& source = teacher->config();
  const UvcGeometry g = uvc_geometry(source, options.search.cost);
  const int64_t eval_batch = options.finetune.train.eval_batch_size;
  const bool quiet = options.finetune.train.quiet;
  UvcRunResult result;
  nlohmann::json& record = result.record;
  record["teacher"] = model_summary(source, evaluate(*teacher, *eval_data, eval_batch));

  // Stage 1.
  UvcSearchResult search = run_uvc_search(teacher, teacher_info, train_data, eval_data,
                                          options.search);
  record["search"] = {{"dir", options.search.out_dir},
                      {"options", options.search.trajectory_json()},
                      {"history", search.history},
                      {"resumed_after_epoch", search.resumed_after_epoch},
                      {"reused_finished_search", search.reused},
                      {"search_seconds", search.search_seconds}};

  // The final Structure: the learned decision projected onto the budget.
  Stopwatch clock;
  const GroupScores scores = group_scores(*search.model, g);
  const Repair repair = meet_budget(source, g, search.state, scores, options.search.target,
                                    options.budget_tolerance, options.round_to);
  // Every rank projects rank 0's searched weights and variables (copied to all ranks after each
  // search epoch) by the same deterministic steps; checked, not assumed.
  check_same_on_all_ranks(options.search.dist.get(), structure_to_json(repair.structure).dump(),
                          "the final UVC Structure");
  record["structure"] = repair_to_json(repair, g);
  record["structure"]["per_block"] = structure_summary(repair.structure);
  record["structure"]["round_to"] = options.round_to;
  VisionTransformer compact = slice_model(*search.model, repair.structure);
  record["structure"]["slice_check_max_abs_diff"] = slice_check(
      *search.model,
      masks_to(structure_masks(source, repair.structure), search.model->options()),
      *compact, *eval_data);
  record["structure"]["seconds"] = clock.seconds();
  const EvalResult sliced = evaluate(*compact, *eval_data, eval_batch);
  record["structure"]["eval_before_finetune"] = eval_to_json(sliced);
  const int64_t dense = g.dense_cost();
  if (!quiet) {
    std::fprintf(stderr,
                 "UVC structure: %.3f M MACs, %.3f M params (%.2f%% of the teacher's %s; stage 1 "
                 "ended at %.2f%%, %d unit steps to the budget); top1 %.2f%% before finetuning "
                 "(teacher %.2f%%)\n",
                 compute_complexity(compact->config()).macs() / 1e6,
                 compute_complexity(compact->config()).params() / 1e6,
                 100.0 * repair.cost / dense, resource_name(g.resource).c_str(),
                 100.0 * repair.learned_cost / dense, repair.steps, sliced.top1,
                 record["teacher"]["top1"].get<double>());
  }

  // Stage 2.
  const nlohmann::json provenance = {{"compressed_by", "vitc uvc (UVC)"},
                                     {"search", options.search.out_dir}};
  const FinetuneOutcome tuned = finetune_compact(compact, source, repair.structure, teacher,
                                                 train_data, eval_data, options.finetune, sliced,
                                                 provenance);
  record["finetune"] = tuned.record;
  nlohmann::json summary = compression_result(source, compact->config(), tuned.final_eval,
                                              record["teacher"]["top1"].get<double>());
  summary["target_" + resource_key(g.resource)] = options.search.target;
  // Each skipped block and what skipped it: the learned gate, or the budget projection when the
  // pruning counts alone could not reach the budget (repair.h).
  nlohmann::json skipped = nlohmann::json::array(), by_gate = nlohmann::json::array();
  for (size_t l = 0; l < repair.structure.blocks.size(); ++l) {
    if (!repair.structure.blocks[l].skip) continue;
    skipped.push_back(l);
    if (repair.learned.skip[l]) by_gate.push_back(l);
  }
  summary["skipped_blocks"] = skipped;
  summary["skipped_by_gate"] = by_gate;
  summary["skipped_by_repair"] = repair.skipped_by_repair;
  record["result"] = summary;
  result.compact = compact;
  return result;
}

}  // namespace vitc
