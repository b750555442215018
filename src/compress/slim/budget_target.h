// ViT-Slim extraction for a MACs, parameter or latency budget: the keep fraction whose compact
// model's exact MACs (parameters, or predicted latency) are within a tolerance of the target,
// found by bisection on the searched masks.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "compress/common/budget.h"
#include "compress/slim/ranking.h"

namespace vitc {

// How tokens enter a solution: kept at a fixed `fraction` (1 = every token), or `shared`:
// ranked with the same keep fraction as the attention dims and MLP neurons.
struct TokenBudget {
  bool shared = false;
  double fraction = 1.0;
};

struct BudgetSolution {
  KeepFractions fractions;  // attn == mlp (the paper's equal budgets), tokens per TokenBudget
  Structure structure;
  Resource resource = Resource::macs;
  int64_t cost = 0;    // MACs, parameters or latency (ps) of the compact model
  int64_t target = 0;  // in the same unit
  double relative_error() const;  // (cost - target) / target
};

// Chooses one keep fraction f for attention dims and MLP neurons alike (and tokens, if shared)
// and returns the Structure of structure_from_fractions whose MACs (token drops included) or
// parameters (or predicted latency) are nearest to `target` (bisection: all grow with f). Tokens hold no parameters,
// so a parameter budget cannot share its fraction with them. With shared tokens, where one token more or
// less jumps over the tolerance, the tokens of the nearest solution above the target stay and a
// second bisection lowers the attention/MLP fraction alone (then fractions.tokens > attn).
// Errors (vitc::Error): a target above the source's; a target below the smallest reachable (one
// attention dim, one MLP neuron and, with shared tokens, one patch token kept), naming that
// value; no f within `tolerance` (relative), naming the nearest values either side.
// With `round_to` > 1 every candidate Structure has its widths on that grid
// (structure_from_fractions).
BudgetSolution solve_budget_target(const ViTConfig& source, const SlimMasks& masks,
                                   const CostModel& cost, int64_t target, double tolerance = 0.01,
                                   const TokenBudget& tokens = {}, int round_to = 1);

nlohmann::json budget_solution_to_json(const BudgetSolution& solution);

}  // namespace vitc
