// Uniform structured pruning: per-block keep counts from two fractions, groups by norm or draw.
#include "compress/baselines/uniform_prune.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "compress/common/group_norms.h"
#include "compress/common/budget.h"
#include "compress/common/round_to.h"
#include "model/complexity.h"
#include "util/error.h"

namespace vitc {

PruneCriterion parse_prune_criterion(const std::string& name) {
  if (name == "random") return PruneCriterion::kRandom;
  if (name == "magnitude") return PruneCriterion::kMagnitude;
  fail("--criterion: unknown pruning criterion '", name, "'; valid: random, magnitude");
}

std::string to_string(PruneCriterion criterion) {
  return criterion == PruneCriterion::kRandom ? "random" : "magnitude";
}

nlohmann::json UniformPrune::to_json() const {
  return {{"head_fraction", head_fraction},
          {"round_to", round_to},
          {"mlp_fraction", mlp_fraction},
          {"target_" + resource_key(resource), target},
          {resource_key(resource), cost},
          {"relative_error",
           target > 0 ? static_cast<double>(cost - target) / static_cast<double>(target) : 0.0}};
}

namespace {

// Group indices of one block in the order they are kept: descending score for magnitude, a
// seeded permutation for random.
std::vector<int> keep_order(const std::vector<double>& norms, PruneCriterion criterion,
                            std::mt19937_64& rng) {
  std::vector<int> order(norms.size());
  std::iota(order.begin(), order.end(), 0);
  if (criterion == PruneCriterion::kRandom) {
    std::shuffle(order.begin(), order.end(), rng);
  } else {
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return norms[a] > norms[b]; });
  }
  return order;
}

int kept_count(double fraction, size_t total, const RoundTo& grid = RoundTo()) {
  const int n = static_cast<int>(std::lround(fraction * static_cast<double>(total)));
  return grid.nearest(std::clamp(n, 1, static_cast<int>(total)), static_cast<int>(total));
}

// The first `count` of `order`, in index order.
std::vector<int> first_sorted(const std::vector<int>& order, int count) {
  std::vector<int> kept(order.begin(), order.begin() + count);
  std::sort(kept.begin(), kept.end());
  return kept;
}

struct Orders {
  std::vector<std::vector<int>> heads, mlp;  // per block
};

Structure structure_at(const ViTConfig& config, const Structure& dense, const Orders& orders,
                       double head_fraction, double mlp_fraction, const RoundTo& grid) {
  Structure s = dense;
  for (size_t b = 0; b < s.blocks.size(); ++b) {
    BlockKeep& block = s.blocks[b];
    if (block.skip) continue;
    if (!orders.heads[b].empty()) {
      const std::vector<int> kept =
          first_sorted(orders.heads[b], kept_count(head_fraction, orders.heads[b].size()));
      std::vector<HeadKeep> heads;
      for (int h : kept) heads.push_back(dense.blocks[b].heads[h]);
      block.heads = heads;
    }
    if (!orders.mlp[b].empty())
      block.mlp = first_sorted(orders.mlp[b], kept_count(mlp_fraction, orders.mlp[b].size(), grid));
  }
  return s;
}

}  // namespace

UniformPrune uniform_prune(VisionTransformerImpl& model, const CostModel& cost, int64_t target,
                           const UniformPruneOptions& options) {
  const Resource resource = cost.resource();
  const std::string unit = resource_name(resource);
  const auto amount = [resource](int64_t a) { return amount_text(a, resource); };
  check(options.tolerance > 0, unit, " tolerance must be positive, got ", options.tolerance);
  const ViTConfig& config = model.config();
  const int64_t source_amount = source_cost(config, cost);
  check(target > 0 && static_cast<double>(target) <= source_amount * (1.0 + options.tolerance),
        unit, " target ", amount(target), " is above the model's ", amount(source_amount), " ",
        unit, " ('",
        config.name, "')");
  const std::vector<BlockGroupNorms> norms = group_norms(model);
  const RoundTo grid(options.round_to);
  std::mt19937_64 rng(options.seed);
  Orders orders;
  size_t max_heads = 0;
  for (const BlockGroupNorms& n : norms) {
    orders.heads.push_back(keep_order(n.heads, options.criterion, rng));
    orders.mlp.push_back(keep_order(n.mlp, options.criterion, rng));
    max_heads = std::max(max_heads, n.heads.size());
  }
  const Structure dense = dense_structure(config);
  auto evaluate_at = [&](double h, double m) {
    UniformPrune p;
    p.structure = structure_at(config, dense, orders, h, m, grid);
    p.resource = resource;
    p.cost = compact_cost(config, p.structure, cost);
    p.target = target;
    p.head_fraction = h;
    p.mlp_fraction = m;
    p.round_to = options.round_to;
    return p;
  };
  auto error_of = [&](const UniformPrune& p) {
    return std::abs(static_cast<double>(p.cost - target)) / static_cast<double>(target);
  };
  std::vector<UniformPrune> feasible;
  int64_t nearest_below = -1, nearest_above = -1;  // reachable costs either side of the target
  auto note = [&](const UniformPrune& p) {
    if (p.cost <= target && p.cost > nearest_below) nearest_below = p.cost;
    if (p.cost > target && (nearest_above < 0 || p.cost < nearest_above)) nearest_above = p.cost;
  };
  const size_t head_steps = std::max<size_t>(max_heads, 1);
  for (size_t k = 1; k <= head_steps; ++k) {
    const double h = static_cast<double>(k) / static_cast<double>(head_steps);
    double lo = 0, hi = 1;
    UniformPrune below = evaluate_at(h, lo), above = evaluate_at(h, hi);
    note(below);
    note(above);
    if (below.cost > target) {  // even one neuron per block is too much at this h...
      if (error_of(below) <= options.tolerance) feasible.push_back(below);  // ...but close enough
      continue;
    }
    if (above.cost <= target) {         // every neuron fits
      if (error_of(above) <= options.tolerance) feasible.push_back(above);
      continue;
    }
    for (int i = 0; i < 40; ++i) {  // invariant: below.cost <= target < above.cost
      const double mid = 0.5 * (lo + hi);
      UniformPrune p = evaluate_at(h, mid);
      note(p);
      if (p.cost <= target) {
        lo = mid;
        below = std::move(p);
      } else {
        hi = mid;
        above = std::move(p);
      }
    }
    const UniformPrune& best = target - below.cost <= above.cost - target ? below : above;
    if (error_of(best) <= options.tolerance) feasible.push_back(best);
  }
  if (feasible.empty()) {
    fail(unit, " target ", amount(target), " (", percent_of(target, source_amount), " of ",
         amount(source_amount), ") cannot be met within ", options.tolerance * 100,
         "% by uniform pruning: the nearest reachable are ",
         nearest_below >= 0 ? amount(nearest_below) : std::string("none"), " below and ",
         nearest_above >= 0 ? amount(nearest_above) : std::string("none"),
         " above (at least one head and one MLP neuron stay in every block",
         options.round_to > 1 ? str_cat("; MLP widths are multiples of --round-to ", options.round_to)
                              : std::string(),
         ")");
  }
  return *std::min_element(feasible.begin(), feasible.end(),
                           [](const UniformPrune& a, const UniformPrune& b) {
                             return std::abs(a.head_fraction - a.mlp_fraction) <
                                    std::abs(b.head_fraction - b.mlp_fraction);
                           });
}

}  // namespace vitc
