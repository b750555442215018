// Slicing, contract check, evaluation and the compressed model directory.
#include "compress/common/finalize.h"

#include <torch/torch.h>

#include "compress/common/data_parallel.h"
#include "model/complexity.h"
#include "model/slice.h"
#include "model/structure_masks.h"
#include "train/evaluate.h"

namespace vitc {

nlohmann::json model_summary_json(const ViTConfig& config, const nlohmann::json& eval) {
  const Complexity c = compute_complexity(config);
  nlohmann::json j = {{"config", config.name}, {"macs", c.macs()}, {"params", c.params()}};
  for (const char* key : {"top1", "top5", "loss"})
    if (eval.contains(key)) j[key] = eval[key];
  return j;
}

nlohmann::json model_summary(const ViTConfig& config, const EvalResult& eval) {
  return model_summary_json(config, eval_to_json(eval));
}

double slice_check(VisionTransformerImpl& source, const ModelMasks& view,
                   VisionTransformerImpl& compact, const Dataset& data) {
  torch::NoGradGuard no_grad;
  std::vector<int64_t> indices;
  for (int64_t i = 0; i < std::min<int64_t>(64, data.size()); ++i) indices.push_back(i);
  const at::Tensor images = data.get_batch(indices).images;
  const bool source_training = source.is_training(), compact_training = compact.is_training();
  source.eval();
  compact.eval();
  const double diff =
      (compact.forward(images) - source.forward(images, &view)).abs().max().item<double>();
  source.train(source_training);
  compact.train(compact_training);
  return diff;
}

nlohmann::json compression_result(const ViTConfig& source, const ViTConfig& compact,
                                  const EvalResult& final_eval, double teacher_top1) {
  const Complexity before = compute_complexity(source), after = compute_complexity(compact);
  nlohmann::json summary = model_summary(compact, final_eval);
  summary["macs_fraction"] = static_cast<double>(after.macs()) / static_cast<double>(before.macs());
  summary["params_fraction"] =
      static_cast<double>(after.params()) / static_cast<double>(before.params());
  summary["top1_drop"] = teacher_top1 - final_eval.top1;
  return summary;
}

FinalModel finalize_compressed(VisionTransformerImpl& trained, const Structure& structure,
                               const Dataset& eval_data, int64_t eval_batch,
                               const std::string& out_dir, const nlohmann::json& provenance,
                               dist::Group* group) {
  check_same_on_all_ranks(group, structure_to_json(structure).dump(), "the final Structure");
  const ViTConfig& source = trained.config();
  trained.eval();
  FinalModel out;
  out.compact = slice_model(trained, structure);
  out.compact->eval();
  const double max_diff =
      slice_check(trained, masks_to(structure_masks(source, structure), trained.options()),
                  *out.compact, eval_data);
  const EvalResult eval = evaluate(*out.compact, eval_data, eval_batch);
  if (is_lead(group)) save_compressed_model_dir(out_dir, *out.compact, source, structure, provenance);
  barrier(group);  // the model directory is complete when any rank returns
  const Complexity src = compute_complexity(source), dst = compute_complexity(out.compact->config());
  out.record = model_summary_json(out.compact->config(), eval_to_json(eval));
  out.record["macs_fraction"] = static_cast<double>(dst.macs()) / static_cast<double>(src.macs());
  out.record["params_fraction"] = static_cast<double>(dst.params()) / static_cast<double>(src.params());
  out.record["slice_check_max_abs_diff"] = max_diff;
  out.record["eval"] = eval_to_json(eval);
  out.record["dir"] = out_dir;
  return out;
}

}  // namespace vitc
