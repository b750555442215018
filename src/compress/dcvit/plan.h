// DC-ViT's dense targets: from a MACs (or parameter) target, the number k of blocks to compress
// (attention removed, MLP narrowed) and the kept MLP width, computed with vitc's exact counts.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "compress/common/budget.h"
#include "compress/common/candidate_blocks.h"
#include "model/config.h"
#include "model/structure.h"

namespace vitc {

struct DcvitPlan {
  int blocks = 0;         // k: candidates (block groups: blocks, or a Swin's pairs) compressed
  int hidden = 0;         // kept MLP neurons per compressed block (0 = the block goes entirely)
  int source_hidden = 0;  // the teacher's MLP width
  int round_to = 1;       // hidden is a multiple of it (or 0, or source_hidden)
  int embed_dim = 0;
  int min_blocks = 0, max_blocks = 0;  // the valid range of k for this target
  Resource resource = Resource::macs;  // what target and the costs below count
  int64_t target = 0;
  int64_t teacher_cost = 0;
  int64_t cost = 0;          // the compressed model's exact MACs (parameters, predicted latency)
  int64_t attn_cost = 0;     // a: one candidate's attention branches (qkv, q k^T, attn v, proj)
  int64_t mlp_cost = 0;      // m: one candidate's full MLPs
  int64_t neuron_cost = 0;   // one MLP neuron of one candidate
  int64_t mlp_fixed_cost = 0;  // what a candidate's MLPs cost besides their neurons (parameters:
                               // norm2, fc2's bias, LayerScale), gone only with the last neuron
  double mlp_ratio() const;  // hidden / embed_dim (the reference's mlp_ratio)
  double relative_error() const;  // (cost - target) / target
  nlohmann::json to_json() const;
};

// The reference's rule with exact MACs: with dM = teacher - target,
//   k = ceil(dM / (a + m))   (or `blocks` if > 0, which must lie in [that, min(floor(dM / a), #candidates)])
//   hidden = floor(H * (1 - (dM - k a) / (k m)))   (the reference's int() of D * mlp_ratio)
// For a parameter or latency target (`cost`) the same rule on those costs, where a candidate's MLP
// costs mlp_fixed_cost + hidden * neuron_cost (0 without neurons): hidden =
// floor((m - (dM - k a) / k - fixed) / per_neuron), which is the formula above when fixed = 0.
// Latency: a, the per-neuron and the fixed costs are the latency table's block affine parts
// (latency_model.h), the block's own fixed time counted with the MLP (without attention and
// neurons the block is skipped).
// A target within `tolerance` above the teacher minus one attention branch uses k = 1 and the full
// MLP. With `round_to` > 1 (--round-to, compress/common/round_to.h) the kept width is the
// multiple of round_to (or 0, or H) on either side of the exact width whose MACs are nearer the
// target. Errors (vitc::Error, naming the values): candidates that differ in size; a target at or
// above the teacher's; a target that no k and width reach within `tolerance` (relative), naming
// the reachable range.
DcvitPlan plan_dense_target(const ViTConfig& teacher, const std::vector<int>& candidates,
                            const CostModel& cost, int64_t target, int blocks = 0,
                            double tolerance = 0.01, int round_to = 1);

// The Structure that compresses block b (key) keeping MLP neurons `kept` (value, sorted): its
// attention removed; no neurons removes the block entirely. Every other block is kept whole.
Structure dcvit_structure(const ViTConfig& teacher, const std::map<int, std::vector<int>>& kept);

}  // namespace vitc
