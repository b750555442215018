// ViT-Slim extraction for a MACs budget: the keep fraction whose compact model's exact MACs are
// within a tolerance of the target, found by bisection on the searched masks.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "compress/slim/ranking.h"

namespace vitc {

// A MACs budget: a fraction of the source model's MACs, or an absolute count.
struct MacsTarget {
  double value = 0;
  bool is_fraction = true;
  int64_t resolve(int64_t source_macs) const;  // the absolute target
  std::string to_string() const;               // "0.5 of the teacher" or "11100000 MACs"
};

// "0.5" or "50%" (a fraction, in (0, 1]); "11100000", "11.1M" or "2.3G" (absolute MACs, > 1).
// Throws vitc::Error naming --macs and the accepted forms.
MacsTarget parse_macs_target(const std::string& text);

// MACs of the compact model of `structure` (model/complexity.h on compact_config).
int64_t compact_macs(const ViTConfig& source, const Structure& structure);

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
