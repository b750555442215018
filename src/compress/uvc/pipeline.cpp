// Search, budget projection, slicing, slice check, finetuning and the run record.
#include "compress/uvc/pipeline.h"

#include <torch/torch.h>

#include "compress/common/data_parallel.h"
#include "compress/uvc/decision.h"
#include "compress/uvc/loss.h"
#include "compress/uvc/repair.h"
#include "model/complexity.h"
#include "model/slice.h"
#include "model/structure_masks.h"
#include "train/evaluate.h"
#include "util/error.h"
#include "util/progress.h"

namespace vitc {

void UvcFinetuneOptions::validate() const {
  check(train.epochs >= 0, "--finetune-epochs must be >= 0, got ", train.epochs);
  if (train.epochs > 0) train.validate();
  check(!train.out_dir.empty(), "an output directory (--out) is required");
  DistillOptions l = loss;
  l.label_smoothing = train.label_smoothing;
  l.validate();
}

void UvcRunOptions::validate() const {
  search.validate();
  finetune.validate();
  check(macs_tolerance > 0 && macs_tolerance < 1, "MACs tolerance must lie in (0, 1), got ",
        macs_tolerance);
}

namespace {

// Largest |compact - searched under the Structure's 0/1 masks| logit on up to 64 images.
double slice_check(VisionTransformerImpl& searched, VisionTransformerImpl& compact,
                   const Structure& structure, const Dataset& data) {
  torch::NoGradGuard no_grad;
  std::vector<int64_t> indices;
  for (int64_t i = 0; i < std::min<int64_t>(64, data.size()); ++i) indices.push_back(i);
  const Batch batch = data.get_batch(indices);
  const ModelMasks view = masks_to(structure_masks(searched.config(), structure),
                                   searched.pos_embed.options());
  const bool searched_training = searched.is_training(), compact_training = compact.is_training();
  searched.eval();
  compact.eval();
  const at::Tensor expected = searched.forward(batch.images, &view);
  const double diff = (compact.forward(batch.images) - expected).abs().max().item<double>();
  searched.train(searched_training);
  compact.train(compact_training);
  return diff;
}

nlohmann::json model_summary(const ViTConfig& config, const EvalResult& eval) {
  const Complexity c = compute_complexity(config);
  return {{"config", config.name}, {"macs", c.macs()},  {"params", c.params()},
          {"top1", eval.top1},     {"top5", eval.top5}, {"loss", eval.loss}};
}

}  // namespace

UvcRunResult run_uvc(VisionTransformer teacher, const nlohmann::json& teacher_info,
                     const std::shared_ptr<const Dataset>& train_data,
                     const std::shared_ptr<const Dataset>& eval_data, const UvcRunOptions& options) {
  options.validate();
  check(eval_data != nullptr, "UVC needs evaluation data");
  const ViTConfig& source = teacher->config();
  const UvcGeometry g = uvc_geometry(source);
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
  const Repair repair = meet_budget(source, g, search.state, scores, options.search.target_macs,
                                    options.macs_tolerance);
  // Every rank projects rank 0's searched weights and variables (copied to all ranks after each
  // search epoch) by the same deterministic steps; checked, not assumed.
  check_same_on_all_ranks(options.search.dist.get(), structure_to_json(repair.structure).dump(),
                          "the final UVC Structure");
  record["structure"] = repair_to_json(repair, g);
  record["structure"]["per_block"] = structure_summary(repair.structure);
  VisionTransformer compact = slice_model(*search.model, repair.structure);
  record["structure"]["slice_check_max_abs_diff"] =
      slice_check(*search.model, *compact, repair.structure, *eval_data);
  record["structure"]["seconds"] = clock.seconds();
  const EvalResult sliced = evaluate(*compact, *eval_data, eval_batch);
  record["structure"]["eval_before_finetune"] = eval_to_json(sliced);
  const int64_t dense = g.dense_macs();
  if (!quiet) {
    std::fprintf(stderr,
                 "UVC structure: %.3f M MACs (%.2f%% of the teacher; stage 1 ended at %.2f%%, "
                 "%d unit steps to the budget), %.3f M params; top1 %.2f%% before finetuning "
                 "(teacher %.2f%%)\n",
                 repair.macs / 1e6, 100.0 * repair.macs / dense,
                 100.0 * repair.learned_macs / dense, repair.steps,
                 compute_complexity(compact->config()).params() / 1e6, sliced.top1,
                 record["teacher"]["top1"].get<double>());
  }

  // Stage 2.
  const nlohmann::json provenance = {{"compressed_by", "vitc uvc (UVC)"},
                                     {"search", options.search.out_dir}};
  EvalResult final_eval = sliced;
  if (options.finetune.train.epochs > 0) {
    TrainOptions train = options.finetune.train;
    // What save_compressed_model_dir adds, so checkpoints and the final model load as
    // compressed model directories.
    train.model_json_extra = provenance;
    train.model_json_extra["structure"] = structure_to_json(repair.structure);
    train.model_json_extra["source_config"] = config_to_json(source);
    train.label = "uvc finetune";
    DistillOptions loss = options.finetune.loss;
    loss.label_smoothing = train.label_smoothing;
    compact->train();
    const TrainResult trained =
        train_model(compact, train_data, eval_data, train, make_uvc_loss(teacher, loss));
    record["finetune"] = {{"settings", train.trajectory_json()},
                          {"loss", loss.to_json()},
                          {"result", train_result_to_json(trained)}};
    final_eval = trained.final_eval;
  } else {
    dist::Group* group = options.finetune.train.dist.get();
    if (is_lead(group)) {
      save_compressed_model_dir(options.finetune.train.out_dir, *compact, source,
                                repair.structure, provenance);
    }
    barrier(group);  // the model directory is complete when any rank returns
    record["finetune"] = nullptr;
  }
  compact->eval();
  const Complexity before = compute_complexity(source), after = compute_complexity(compact->config());
  nlohmann::json summary = model_summary(compact->config(), final_eval);
  summary["macs_fraction"] = static_cast<double>(after.macs()) / before.macs();
  summary["params_fraction"] = static_cast<double>(after.params()) / before.params();
  summary["target_macs"] = options.search.target_macs;
  summary["top1_drop"] = record["teacher"]["top1"].get<double>() - final_eval.top1;
  nlohmann::json skipped = nlohmann::json::array();
  for (size_t l = 0; l < repair.structure.blocks.size(); ++l)
    if (repair.structure.blocks[l].skip) skipped.push_back(l);
  summary["skipped_blocks"] = skipped;
  record["result"] = summary;
  result.compact = compact;
  return result;
}

}  // namespace vitc
