// Extraction, evaluation and finetuning of one ViT-Slim budget.
#include "compress/slim/pipeline.h"

#include <torch/torch.h>

#include "compress/common/data_parallel.h"
#include "model/complexity.h"
#include "model/slice.h"
#include "train/evaluate.h"
#include "util/error.h"
#include "util/progress.h"

namespace vitc {

namespace {

// Largest |compact - searched under extraction_masks| logit on up to 64 images: the slicing
// contract, checked on every extraction.
double slice_check(VisionTransformer searched, const SlimMasks& masks, const Extraction& e,
                   bool fold, const Dataset& data) {
  torch::NoGradGuard no_grad;
  std::vector<int64_t> indices;
  for (int64_t i = 0; i < std::min<int64_t>(64, data.size()); ++i) indices.push_back(i);
  const Batch batch = data.get_batch(indices);
  const ModelMasks view = extraction_masks(searched->config(), masks, e.structure, fold);
  const bool was_training = searched->is_training();
  searched->eval();
  const at::Tensor expected = searched->forward(batch.images, &view);
  searched->train(was_training);
  VisionTransformer compact = e.compact;
  return (compact->forward(batch.images) - expected).abs().max().item<double>();
}

}  // namespace

CompressResult compress_from_search(const SearchDir& search, VisionTransformer teacher,
                                    const std::shared_ptr<const Dataset>& train_data,
                                    const std::shared_ptr<const Dataset>& eval_data,
                                    const ExtractOptions& extract,
                                    const FinetuneOptions& finetune) {
  finetune.validate();
  check(eval_data != nullptr, "ViT-Slim extraction needs evaluation data");
  const ViTConfig& source = search.model->config();
  check(teacher->config() == source, "teacher '", teacher->config().name,
        "' is not the model the search in '", search.dir, "' started from ('", source.name, "')");
  const int64_t eval_batch = finetune.train.eval_batch_size;
  const bool quiet = finetune.train.quiet;
  // Extraction first: a budget no extraction meets fails before any evaluation.
  Stopwatch extract_clock;
  Extraction e = extract_from_search(search, extract);
  const double extract_seconds = extract_clock.seconds();
  // Every rank extracts from the same search directory (written by rank 0); checked, not assumed.
  check_same_on_all_ranks(finetune.train.dist.get(), structure_to_json(e.structure).dump(),
                          "the extracted ViT-Slim Structure");
  CompressResult result;
  nlohmann::json& record = result.record;
  record["teacher"] = model_summary(source, evaluate(*teacher, *eval_data, eval_batch));
  record["search"] = {
      {"dir", search.dir},
      {"options", search.info.value("options", nlohmann::json())},
      {"search_seconds", search.info.value("search_seconds", 0.0)},
      {"post_search_eval", search.info.value("post_search_eval", nlohmann::json())}};
  record["extraction"] = e.info;
  record["extraction"]["seconds"] = extract_seconds;
  record["extraction"]["slice_check_max_abs_diff"] =
      slice_check(search.model, search.masks, e, extract.fold, *eval_data);
  const EvalResult extracted = evaluate(*e.compact, *eval_data, eval_batch);
  record["extraction"]["eval"] = eval_to_json(extracted);
  if (!quiet) {
    std::fprintf(stderr,
                 "extracted %s: %.3f M MACs (%.1f%% of the teacher), %.3f M params; top1 %.2f%% "
                 "before finetuning (teacher %.2f%%)\n",
                 e.compact->config().name.c_str(), e.info["macs"].get<int64_t>() / 1e6,
                 100 * e.info["macs_fraction"].get<double>(), e.info["params"].get<int64_t>() / 1e6,
                 extracted.top1, record["teacher"]["top1"].get<double>());
  }

  const nlohmann::json provenance = {{"compressed_by", "vitc slim (ViT-Slim)"},
                                     {"search", search.dir}};
  const FinetuneOutcome tuned = finetune_compact(e.compact, source, e.structure, teacher, train_data,
                                                eval_data, finetune, extracted, provenance);
  record["finetune"] = tuned.record;
  const EvalResult& final_eval = tuned.final_eval;
  e.compact->eval();
  nlohmann::json summary = model_summary(e.compact->config(), final_eval);
  summary["macs_fraction"] = e.info["macs_fraction"];
  summary["params_fraction"] = e.info["params_fraction"];
  summary["top1_drop"] = record["teacher"]["top1"].get<double>() - final_eval.top1;
  record["result"] = summary;
  result.compact = e.compact;
  return result;
}

}  // namespace vitc
