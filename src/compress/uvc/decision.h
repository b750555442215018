// An integer UVC configuration (skipped blocks and pruning counts) and the Structure it gives
// under a ranking of the groups by their scores.
#pragma once

#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "compress/uvc/geometry.h"
#include "compress/uvc/groups.h"
#include "model/structure.h"

namespace vitc {

struct UvcDecision {
  std::vector<bool> skip;  // [L]
  PruneCounts counts;      // ignored for skipped blocks
};

// Throws vitc::Error unless every count lies in its block's range: heads and dims in
// [0, H_l-1] / [0, d_l-1], MLP in [0, F_l-1] (at least one head, one v dim per head and one
// neuron survive, as in UVC), 0 for the heads a block lacks.
void validate_decision(const UvcGeometry& geometry, const UvcDecision& decision);

// Skipped blocks are skipped; other blocks keep every head but the counts.heads smallest by
// score (in source order), each kept head with all its q/k dims and its v dims minus the
// counts.dims smallest, and every MLP neuron but the counts.mlp smallest.
Structure decision_structure(const ViTConfig& source, const UvcGeometry& geometry,
                             const UvcDecision& decision, const GroupScores& scores);

// Exact MACs or parameters (the geometry's resource) of decision_structure
// (UvcGeometry::block_cost per kept block), without building it.
int64_t decision_cost(const UvcGeometry& geometry, const UvcDecision& decision,
                      const GroupScores& scores);

// Every block's heads, smallest score first: the heads a decision prunes in block l are the
// first counts.heads[l] of head_order(...)[l] (smallest_indices is a stable sort).
std::vector<std::vector<int>> head_order(const UvcGeometry& geometry, const GroupScores& scores);
// decision_cost with the head order computed once (the repair evaluates many decisions).
int64_t decision_cost(const UvcGeometry& geometry, const UvcDecision& decision,
                      const std::vector<std::vector<int>>& head_order);

}  // namespace vitc
