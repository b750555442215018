// PRACTISE (Wang et al., CVPR'23) ported to ViTs as DC-ViT compares against it: every candidate
// block is scored by how well the network recovers without it (adaptors trained by feature
// mimicking, then the logit KL to the teacher on the few-shot images) divided by the latency it
// saves; the lowest-scoring blocks are dropped whole and the network is finetuned by feature
// mimicking. The result is a plain Structure (skipped blocks) and a sliced model.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compress/common/budget.h"
#include "compress/common/feature_mimic.h"
#include "compress/common/few_shot.h"
#include "compress/practise/adaptors.h"
#include "data/dataset.h"
#include "dist/group.h"
#include "model/vit.h"

namespace vitc {

// Milliseconds of one forward pass of a model on a fixed batch (the app times batch 64).
using LatencyFn = std::function<double(VisionTransformerImpl& model)>;

struct PractiseSettings {
  std::vector<int> candidates;  // blocks that may be dropped
  RecoverOptions recover;
  MimicOptions mimic;           // the final finetuning
  bool finetune_all = true;     // PRACTISE finetunes every block (false: DC-ViT's front rule)
  int latency_repeats = 10;     // interleaved timings of teacher and candidate per block
  bool resume = false;
  bool quiet = false;
  // Data-parallel scoring and finetuning (docs/distributed.md); null = one process. Every rank
  // runs the same calls; adaptor training and finetuning average gradients, rank 0 alone measures
  // latency and its scores are broadcast, and only rank 0 writes files.
  std::shared_ptr<dist::Group> dist;
  nlohmann::json to_json() const;
};

struct PractiseScore {
  int block = 0;
  double recoverability = 0;      // KL after adaptor training
  double kl_before = 0;           // KL with the block dropped, no adaptors
  double latency_reduction = 0;   // percent of the teacher's latency (or MACs, without a LatencyFn)
  double score = 0;               // recoverability / latency_reduction
  nlohmann::json recover;
};

struct PractiseRanking {
  std::string dir;
  std::vector<PractiseScore> scores;  // ascending score: drop first
  nlohmann::json key;
  std::string latency_source;  // "measured" or "macs"
  double seconds = 0;
  std::vector<int> order() const;
  nlohmann::json to_json() const;
};

// Scores every candidate (reusing finished candidates in `dir` with settings.resume) and writes
// dir/practise_ranking.json. Without `latency` the reduction is the MACs reduction.
PractiseRanking rank_practise(VisionTransformer teacher, const nlohmann::json& teacher_info,
                              const FewShotSet& few_shot, const PractiseSettings& settings,
                              const std::string& dir, const LatencyFn& latency);

PractiseRanking load_practise_ranking(const std::string& dir);

// Percent of the teacher's time a dropped-block model saves: `repeats` rounds timing both back to
// back after one warm-up round, medians compared. A model without a block does strictly less
// work, so a saving of 0 or less is the noise of a busy machine: it is measured again with twice
// the rounds, up to twice (at most 7 x `repeats` rounds in all), and the last value returned.
// Shared by every family's scoring.
double interleaved_reduction_percent(const std::function<double()>& teacher_ms,
                                     const std::function<double()>& dropped_ms, int repeats);

// The fewest blocks, dropped in `order` (a ranking's), that bring the model to at most
// target * (1 + tolerance) MACs, parameters or predicted latency: PRACTISE at a budget. Whole blocks are coarse, so
// the result usually lies below the target. Throws naming the smallest reachable amount when
// even dropping every block in `order` is not enough.
int drops_for_budget(const ViTConfig& config, const std::vector<int>& order,
                     const CostModel& cost, int64_t target, double tolerance = 0.01);

// Drops the ranking's first `drop` blocks, finetunes (stage in out_dir/finetune), slices and
// writes out_dir. Returns {"dropped", "finetune", "result"} and the compact model.
struct PractiseResult {
  VisionTransformer compact{nullptr};
  nlohmann::json record;
};
PractiseResult compress_practise(VisionTransformer teacher, const nlohmann::json& teacher_info,
                                 const FewShotSet& few_shot, const PractiseRanking& ranking,
                                 int drop, const PractiseSettings& settings,
                                 const Dataset& eval_data, const std::string& out_dir,
                                 int64_t eval_batch = 256);

}  // namespace vitc
