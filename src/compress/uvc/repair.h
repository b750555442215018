// The final projection from UVC's continuous variables to an integer Structure that meets the
// budget (MACs or parameters, the geometry's resource): the learned decision, then pruning counts moved one unit at a time (the unit whose
// fraction is nearest its next half-integer step, i.e. all fractions shifted by one common offset)
// until the exact cost reaches the target from below, then single MLP neurons / v dims restored
// while they still fit. Blocks are skipped or restored by their gate margin only when the counts
// alone cannot reach the budget.
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "compress/uvc/decision.h"
#include "compress/uvc/state.h"
#include "model/structure.h"

namespace vitc {

struct Repair {
  UvcDecision learned;    // what the variables said
  int64_t learned_cost = 0;
  UvcDecision decision;   // after the projection
  Structure structure;
  int64_t cost = 0;       // exact MACs or parameters (compute_complexity of the compact config);
                          // latency: the geometry's affine cost (heads as one group)
  int64_t table_cost = -1;  // latency: the latency table's prediction of the compact model, which
                            // also counts head groups and padding (-1 for MACs and parameters)
  int64_t target = 0;     // in the geometry's resource
  int steps = 0;          // single-unit count changes made
  std::vector<int> skipped_by_repair, restored_by_repair;  // blocks whose gate was overruled
  double relative_error() const;  // (cost - target) / target
};

// `target` counts geometry.resource. Throws vitc::Error if it is above the source's, not above
// the fixed cost (patch embedding and head), or if no configuration lies within `tolerance` (relative) of it.
// With `round_to` > 1 (--round-to, compress/common/round_to.h) every kept v width and MLP width is
// a multiple of it (or the full width): the learned counts are moved to the nearest such width
// first, and v dims and neurons then move from one allowed width to the next.
Repair meet_budget(const ViTConfig& source, const UvcGeometry& geometry, const UvcState& state,
                   const GroupScores& scores, int64_t target, double tolerance = 0.01,
                   int round_to = 1);

nlohmann::json repair_to_json(const Repair& repair, const UvcGeometry& geometry);

}  // namespace vitc
