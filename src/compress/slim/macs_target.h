// ViT-Slim extraction for a MACs budget: the keep fraction whose compact model's exact MACs are
// within a tolerance of the target, found by bisection on the searched masks.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "compress/common/macs_budget.h"
#include "compress/slim/ranking.h"

namespace vitc {

// How tokens enter a MACs solution: kept at a fixed `fraction` (1 = every token), or `shared`:
// ranked with the same keep fraction as the attention dims and MLP neurons.
struct TokenBudget {
  bool shared = false;
  double fraction = 1.0;
};

struct MacsSolution {
  KeepFractions fractions;  // attn == mlp (the paper's equal budgets), tokens per TokenBudget
  Structure structure;
  int64_t macs = 0;
  int64_t target = 0;
  double relative_error() const;  // (macs - target) / target
};

// Chooses one keep fraction f for attention dims and MLP neurons alike (and tokens, if shared)
// and returns the Structure of structure_from_fractions whose MACs, token drops included, are
// nearest to `target` (bisection: MACs grow with f). With shared tokens, where one token more or
// less jumps over the tolerance, the tokens of the nearest solution above the target stay and a
// second bisection lowers the attention/MLP fraction alone (then fractions.tokens > attn). Errors (vitc::Error): a target above the
// source's MACs; a target below the smallest reachable MACs (one attention dim, one MLP neuron
// and, with shared tokens, one patch token kept), naming that value; no f within `tolerance`
// (relative), naming the nearest values either side.
// With `round_to` > 1 every candidate Structure has its widths on that grid
// (structure_from_fractions).
MacsSolution solve_macs_target(const ViTConfig& source, const SlimMasks& masks, int64_t target,
                               double tolerance = 0.01, const TokenBudget& tokens = {},
                               int round_to = 1);

nlohmann::json macs_solution_to_json(const MacsSolution& solution);

}  // namespace vitc
