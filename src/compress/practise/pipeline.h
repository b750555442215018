// PRACTISE end to end, as `vitc practise run` runs it: the number of blocks to drop (given, or
// the fewest that meet a MACs budget), the ranking (scored, or reused from another run), the
// compressed model, and the record that goes into run.json.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "compress/common/few_shot.h"
#include "compress/common/budget.h"
#include "compress/practise/practise.h"
#include "train/evaluate.h"

namespace vitc {

struct PractiseRunOptions {
  PractiseSettings settings;           // its candidates are set from first/last_block
  int first_block = -1, last_block = -1;  // candidate range (-1: 1 and depth-2)
  int drop = 0;                        // blocks to drop; 0 without a budget means 1
  std::optional<Budget> budget;        // instead of drop: the fewest ranked blocks that meet it
  std::string ranking_dir;             // reuse the finished ranking there ("": score in out_dir)
  std::string out_dir;                 // the model; the ranking in out_dir/ranking
  int64_t eval_batch = 256;
};

struct PractiseRunResult {
  VisionTransformer compact{nullptr};
  EvalResult teacher_eval;
  // teacher (with eval), settings (with drop, budget), ranking (dir, reused, wall_seconds),
  // dropped, finetune, result
  nlohmann::json record;
};

// Checks what can be checked from the teacher's config alone (the candidate range, --drop
// against it, a budget dropping blocks can reach), so that a bad request fails before minutes of
// scoring; run_practise calls it too. Fills options.settings.candidates.
void check_practise_run(const ViTConfig& teacher, PractiseRunOptions& options);

// `latency` measures a model at batch 64 (null: the MACs saved stand in for the latency saved).
PractiseRunResult run_practise(VisionTransformer teacher, const nlohmann::json& teacher_info,
                               const FewShotSet& few_shot, const Dataset& eval_data,
                               PractiseRunOptions options, const LatencyFn& latency);

}  // namespace vitc
