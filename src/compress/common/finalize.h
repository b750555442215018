// The last step every method shares: slice the trained source model to its Structure, check the
// slicing contract, evaluate, write the compressed model directory, and the record's summaries.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "dist/group.h"
#include "model/structure.h"
#include "model/masks.h"
#include "model/vit.h"
#include "train/evaluate.h"

namespace vitc {

struct FinalModel {
  VisionTransformer compact{nullptr};
  // config, macs, params, fractions of the source, slice_check_max_abs_diff, eval (top1, ...)
  nlohmann::json record;
};

// Slices `trained` (the source-shaped model trained under structure_masks(structure)), measures
// the largest |compact - masked| logit on up to 64 images of `eval_data`, evaluates the compact
// model on all of `eval_data` and writes `out_dir` (save_compressed_model_dir with `provenance`).
// `source_config` is the teacher's config (the Structure's source; `trained` has the same one).
// With a data-parallel `group` every rank calls it, checks that its Structure is rank 0's, and
// only rank 0 writes out_dir (the others return after it is written).
FinalModel finalize_compressed(VisionTransformerImpl& trained, const Structure& structure,
                               const Dataset& eval_data, int64_t eval_batch,
                               const std::string& out_dir, const nlohmann::json& provenance,
                               dist::Group* group = nullptr);

// {"config", "macs", "params", "top1", "top5", "loss"} of a model and its evaluation.
nlohmann::json model_summary(const ViTConfig& config, const EvalResult& eval);
// The same from an evaluation's JSON (eval_to_json); keys it lacks are left out.
nlohmann::json model_summary_json(const ViTConfig& config, const nlohmann::json& eval);

// The slicing contract, checked on every compressed model: the largest |compact - source under
// `view`| logit on up to 64 images of `data`, both models in eval mode (their modes restored).
double slice_check(VisionTransformerImpl& source, const ModelMasks& view,
                   VisionTransformerImpl& compact, const Dataset& data);

// The "result" section of a method's record: model_summary of the compact model plus
// "macs_fraction" and "params_fraction" of `source` and "top1_drop" (teacher_top1 - top1).
nlohmann::json compression_result(const ViTConfig& source, const ViTConfig& compact,
                                  const EvalResult& final_eval, double teacher_top1);

}  // namespace vitc
