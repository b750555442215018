// DC-ViT's dense targets: from a MACs target, the number k of blocks to compress (attention
// removed, MLP narrowed) and the kept MLP width, computed with vitc's exact MACs.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

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
  int64_t target = 0;
  int64_t teacher_macs = 0;
  int64_t macs = 0;          // the compressed model's exact MACs
  int64_t attn_macs = 0;     // a: one candidate's attention branches (qkv, q k^T, attn v, proj)
  int64_t mlp_macs = 0;      // m: one candidate's full MLPs
  double mlp_ratio() const;  // hidden / embed_dim (the reference's mlp_ratio)
  double relative_error() const;  // (macs - target) / target
  nlohmann::json to_json() const;
};

// The reference's rule with exact MACs: with dM = teacher - target,
//   k = ceil(dM / (a + m))   (or `blocks` if > 0, which must lie in [that, min(floor(dM / a), #candidates)])
//   hidden = floor(H * (1 - (dM - k a) / (k m)))   (the reference's int() of D * mlp_ratio)
// A target within `tolerance` above the teacher minus one attention branch uses k = 1 and the full
// MLP. With `round_to` > 1 (--round-to, compress/common/round_to.h) the kept width is the
// multiple of round_to (or 0, or H) on either side of the exact width whose MACs are nearer the
// target. Errors (vitc::Error, naming the values): candidates that differ in size; a target at or
// above the teacher's MACs; a target that no k and width reach within `tolerance` (relative),
// naming the reachable range.
DcvitPlan plan_dense_target(const ViTConfig& teacher, const std::vector<int>& candidates,
                            int64_t target, int blocks = 0, double tolerance = 0.01,
                            int round_to = 1);

// The Structure that compresses block b (key) keeping MLP neurons `kept` (value, sorted): its
// attention removed; no neurons removes the block entirely. Every other block is kept whole.
Structure dcvit_structure(const ViTConfig& teacher, const std::map<int, std::vector<int>>& kept);

}  // namespace vitc
