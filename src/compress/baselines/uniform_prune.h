// Baselines for the method comparison: one-shot structured pruning that keeps the same fraction
// of heads and of MLP neurons in every block, choosing which by a seeded random draw or by the
// largest L2 norm (magnitude), at the MACs or parameter budget a method is given.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "compress/common/budget.h"
#include "model/structure.h"
#include "model/vit.h"

namespace vitc {

enum class PruneCriterion { kRandom, kMagnitude };

// "random" or "magnitude"; anything else is a vitc::Error naming --criterion and both.
PruneCriterion parse_prune_criterion(const std::string& name);
std::string to_string(PruneCriterion criterion);

struct UniformPruneOptions {
  PruneCriterion criterion = PruneCriterion::kMagnitude;
  uint64_t seed = 0;         // random: the draw of heads and neurons
  double tolerance = 0.01;   // relative distance of the result's MACs (parameters) to the target
  int round_to = 1;          // kept MLP widths on the --round-to grid (compress/common/round_to.h)
};

struct UniformPrune {
  Structure structure;
  Resource resource = Resource::macs;
  int64_t cost = 0;    // MACs, parameters or predicted latency (ps) of the compact model
  int64_t target = 0;  // in the same unit
  double head_fraction = 1;  // heads kept per block / heads of the block (rounded, at least 1)
  double mlp_fraction = 1;   // MLP neurons kept per block / neurons of the block (idem)
  int round_to = 1;
  nlohmann::json to_json() const;
};

// Every block keeps max(1, round(h * heads)) whole heads and max(1, round(m * neurons)) MLP
// neurons, the latter moved to the nearest multiple of options.round_to (round_to.h). For each head fraction h the MLP fraction m that meets `target` is found by bisection
// (the cost grows with m); of the (h, m) within `tolerance` the one with h closest to m is
// chosen, so attention and MLP are pruned alike. `target` counts what `cost` counts. Blocks the
// model already skips stay skipped. Errors (vitc::Error): a target above the model's, or none
// within tolerance (naming the nearest).
UniformPrune uniform_prune(VisionTransformerImpl& model, const CostModel& cost, int64_t target,
                           const UniformPruneOptions& options);

}  // namespace vitc
