// PRACTISE on a ResNet end to end, as `vitc practise run` runs it for a ResNet teacher: the
// candidates, the blocks to drop (given, or the fewest ranked ones that meet a MACs budget,
// refused before any training when no choice of blocks can), the ranking (PRACTISE's scores, or
// a seeded random order for the random block-drop baseline), the finetuned compact model and the
// record for run.json.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "compress/common/few_shot.h"
#include "compress/common/budget.h"
#include "compress/practise/resnet_practise.h"
#include "train/evaluate.h"

namespace vitc {

struct ResNetPractiseOptions {
  PractiseSettings settings;
  int first_block = -1, last_block = -1;  // candidate range (-1: every droppable block)
  int drop = 0;                           // blocks to drop; 0 without a budget means 1
  std::optional<Budget> budget;           // instead of drop: MACs or parameters
  int64_t random_seed = -1;               // >= 0: random block drop with this seed
  std::string out_dir;                    // the model; ranking.json and finetune/ inside
  int64_t eval_batch = 256;
};

struct ResNetPractiseRun {
  ResNet compact{nullptr};
  EvalResult teacher_eval;
  nlohmann::json record;  // teacher, settings, ranking, dropped, dropped_names, finetune, result
};

// The candidates of `options` (every droppable block in the range), checked against --drop and
// the MACs budget, which must be reachable; throws naming the flag and the reachable values.
std::vector<int> check_resnet_practise(const ResNetConfig& teacher, const ResNetPractiseOptions& options);

ResNetPractiseRun run_resnet_practise(ResNet teacher, const nlohmann::json& teacher_info,
                                      const FewShotSet& few_shot, const Dataset& eval_data,
                                      const ResNetPractiseOptions& options,
                                      const ResNetLatencyFn& latency);

}  // namespace vitc
