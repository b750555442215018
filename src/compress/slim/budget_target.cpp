// Meeting a ViT-Slim MACs or parameter budget by bisection on a shared keep fraction of the
// ranked masks.
#include "compress/slim/budget_target.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include <nlohmann/json.hpp>

#include "model/complexity.h"
#include "util/error.h"

namespace vitc {

double BudgetSolution::relative_error() const {
  return target > 0 ? static_cast<double>(cost - target) / static_cast<double>(target) : 0.0;
}

namespace {

// Bisection on f in [lo, hi] for solve_at(f) (the cost grows with f), given below.cost < target
// < above.cost at the ends. Returns the two solutions nearest the target either side.
template <typename SolveAt>
std::pair<BudgetSolution, BudgetSolution> bisect(const SolveAt& solve_at, double lo, double hi,
                                             BudgetSolution below, BudgetSolution above,
                                             int64_t target) {
  for (int i = 0; i < 60 && hi - lo > 1e-12; ++i) {
    const double mid = 0.5 * (lo + hi);
    BudgetSolution s = solve_at(mid);
    if (s.cost == target) return {s, s};
    if (s.cost < target) {
      lo = mid;
      below = std::move(s);
    } else {
      hi = mid;
      above = std::move(s);
    }
  }
  return {below, above};
}

const BudgetSolution& nearest(const std::pair<BudgetSolution, BudgetSolution>& sides, int64_t target) {
  return target - sides.first.cost <= sides.second.cost - target ? sides.first : sides.second;
}

}  // namespace

BudgetSolution solve_budget_target(const ViTConfig& source, const SlimMasks& masks,
                                   const CostModel& cost, int64_t target, double tolerance,
                                   const TokenBudget& tokens, int round_to) {
  const Resource resource = cost.resource();
  const std::string unit = resource_name(resource);
  const auto amount = [resource](int64_t a) { return amount_text(a, resource); };
  check(!tokens.shared || masks.has_tokens(),
        "tokens cannot share the MACs budget: the search had no token masks (search again with "
        "--tokens)");
  check(!tokens.shared || resource != Resource::params,
        "tokens cannot share a parameter budget: tokens hold no parameters (give --budget-tokens, "
        "or a --macs budget)");
  check(tolerance > 0, unit, " tolerance must be positive, got ", tolerance);
  const int64_t source_amount = source_cost(source, cost);
  check(target > 0 && static_cast<double>(target) <= source_amount * (1.0 + tolerance), unit,
        " target ", amount(target), " is above the teacher's ", amount(source_amount), " ", unit, " ('",
        source.name, "')");
  // Attention and MLP keep fraction f; tokens keep `token_fraction` (< 0: f as well).
  auto solve_with = [&](double f, double token_fraction) {
    BudgetSolution s;
    s.fractions.attn = s.fractions.mlp = f;
    s.fractions.tokens = token_fraction < 0 ? f : token_fraction;
    s.structure = structure_from_fractions(source, masks, s.fractions, round_to);
    s.resource = resource;
    s.cost = compact_cost(source, s.structure, cost);
    s.target = target;
    return s;
  };
  const double first_tokens = tokens.shared ? -1.0 : tokens.fraction;
  auto solve_at = [&](double f) { return solve_with(f, first_tokens); };
  // The smallest fraction that is still positive keeps only the top-ranked entry of each type
  // (and its ties): the least any extraction reaches.
  const BudgetSolution least = solve_at(1e-12);
  check(static_cast<double>(least.cost) <= target * (1.0 + tolerance), unit, " target ",
        amount(target), " (", percent_of(target, source_amount), " of the teacher's ",
        amount(source_amount), ") is unreachable: the smallest reachable is ", amount(least.cost),
        " ", unit, " (",
        percent_of(least.cost, source_amount),
        " of the teacher), with ",
        round_to > 1 ? str_cat("the top-ranked attention dims and MLP neurons rounded to "
                               "multiples of --round-to ", round_to)
                     : std::string("one attention dim and one MLP neuron kept"),
        tokens.shared ? " and one patch token" : "");
  const BudgetSolution all = solve_at(1.0);
  check(static_cast<double>(all.cost) >= target * (1.0 - tolerance), unit, " target ",
        amount(target), " is unreachable with token keep fraction ", tokens.fraction,
        " (--budget-tokens): keeping every attention dim and MLP neuron gives ", amount(all.cost),
        " ",
        unit, " (", percent_of(all.cost, source_amount), " of the teacher), already below it");
  if (all.cost <= target) return all;
  if (least.cost >= target) return least;
  auto sides = bisect(solve_at, least.fractions.attn, 1.0, least, all, target);
  if (tokens.shared && std::abs(nearest(sides, target).relative_error()) > tolerance) {
    // One token more or less changes every later block's MACs, a larger step than the tolerance
    // allows: keep the tokens of the side above the target and let attention and MLP alone
    // (fine steps) come down to it.
    const double token_fraction = sides.second.fractions.tokens;
    auto solve_fixed = [&](double f) { return solve_with(f, token_fraction); };
    const BudgetSolution low = solve_fixed(1e-12);
    if (low.cost < target) {
      sides = bisect(solve_fixed, low.fractions.attn, sides.second.fractions.attn, low,
                     sides.second, target);
    }
  }
  const BudgetSolution& best = nearest(sides, target);
  check(std::abs(best.relative_error()) <= tolerance, unit, " target ", amount(target),
        " cannot be met within ", tolerance * 100, "%: the nearest reachable values are ",
        amount(sides.first.cost), " and ", amount(sides.second.cost), " ", unit,
        " (the masks' ranking changes them in larger steps",
        round_to > 1 ? str_cat("; --round-to ", round_to, " makes them coarser") : std::string(),
        ")");
  return best;
}

nlohmann::json budget_solution_to_json(const BudgetSolution& s) {
  return {{"keep_fraction_attn", s.fractions.attn},
          {"keep_fraction_mlp", s.fractions.mlp},
          {"keep_fraction_tokens", s.fractions.tokens},
          {"target_" + resource_key(s.resource), s.target},
          {resource_key(s.resource), s.cost},
          {"relative_error", s.relative_error()}};
}

}  // namespace vitc
