// DC-ViT end to end for one or several MACs targets: plan every target, rank the candidate blocks
// once (or reuse a ranking), then compress progressively, slice and save each target's model.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compress/dcvit/plan.h"
#include "compress/dcvit/ranking.h"
#include "compress/dcvit/settings.h"
#include "data/dataset.h"

namespace vitc {

struct DcvitJob {
  CostModel cost = Resource::macs;  // what target counts
  int64_t target = 0;   // absolute MACs (parameters, latency in ps)
  int blocks = 0;       // k; 0 = the reference's smallest k
  double tolerance = 0.01;  // relative distance of the plan's cost to the target
  std::string out_dir;  // the compressed model directory (steps/ inside)
};

struct DcvitJobResult {
  DcvitPlan plan;
  VisionTransformer compact{nullptr};
  nlohmann::json record;  // plan, blocks, steps, result, seconds
};

struct DcvitRunResult {
  Ranking ranking;
  nlohmann::json ranking_record;  // dir, reused or computed, seconds
  std::vector<DcvitJobResult> jobs;
};

// Plans every job first (an unreachable target fails before any training). The ranking: loaded
// from `ranking_dir` if it holds a finished one and `reuse_ranking` is set, otherwise computed
// there at the MLP width of jobs[rank_job]. Each job then compresses the ranking's best k blocks.
// `eval_data` (labelled) is used only to report top-1.
DcvitRunResult run_dcvit(const DcvitInputs& in, const std::vector<DcvitJob>& jobs, int rank_job,
                         const std::string& ranking_dir, bool reuse_ranking,
                         const DcvitSettings& settings, const Dataset& eval_data,
                         int64_t eval_batch = 256);

}  // namespace vitc
