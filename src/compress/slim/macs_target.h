// ViT-Slim extraction for a MACs budget: the keep fraction whose compact model's exact MACs are
// within a tolerance of the target, found by bisection on the searched masks.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "compress/common/macs_budget.h"
#include "compress/slim/ranking.h"

namespace vitc {

struct MacsSolution {
  KeepFractions fractions;  // attn == mlp: the paper's equal budgets for both types
  Structure structure;
  int64_t macs = 0;
  int64_t target = 0;
  double relative_error() const;  // (macs - target) / target
};

// Chooses one keep fraction f for attention dims and MLP neurons alike and returns the Structure
// of structure_from_fractions(f, f) whose MACs are nearest to `target` (bisection: MACs grow with
// f). Errors (vitc::Error): a target above the source's MACs; a target below the smallest
// reachable MACs (one attention dim and one MLP neuron kept, the rest of those blocks removed),
// naming that value; no f within `tolerance` (relative), naming the nearest values either side.
MacsSolution solve_macs_target(const ViTConfig& source, const SlimMasks& masks, int64_t target,
                               double tolerance = 0.01);

nlohmann::json macs_solution_to_json(const MacsSolution& solution);

}  // namespace vitc
