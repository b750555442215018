// Extraction, evaluation and finetuning of one ViT-Slim budget.
#include "compress/slim/pipeline.h"

#include <torch/torch.h>

#include "compress/common/data_parallel.h"
#include "compress/common/finalize.h"
#include "model/complexity.h"
#include "model/slice.h"
#include "train/evaluate.h"
#include "util/error.h"
#include "util/progress.h"

namespace vitc {

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
  VisionTransformer searched = search.model;  // a handle: the search's weights are only read
  record["extraction"]["slice_check_max_abs_diff"] =
      slice_check(*searched, extraction_masks(source, search.masks, e.structure, extract.fold),
                  *e.compact, *eval_data);
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
  const nlohmann::json summary = compression_result(source, e.compact->config(), final_eval,
                                                    record["teacher"]["top1"].get<double>());
  record["result"] = summary;
  result.compact = e.compact;
  return result;
}

}  // namespace vitc
