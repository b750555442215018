// Meeting a ViT-Slim MACs budget by bisection on a shared keep fraction of the ranked masks.
#include "compress/slim/macs_target.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include <nlohmann/json.hpp>

#include "model/complexity.h"
#include "util/error.h"

namespace vitc {

double MacsSolution::relative_error() const {
  return target > 0 ? static_cast<double>(macs - target) / static_cast<double>(target) : 0.0;
}

namespace {

// Bisection on f in [lo, hi] for solve_at(f) (MACs grow with f), given below.macs < target <
// above.macs at the ends. Returns the two solutions nearest the target either side.
template <typename SolveAt>
std::pair<MacsSolution, MacsSolution> bisect(const SolveAt& solve_at, double lo, double hi,
                                             MacsSolution below, MacsSolution above,
                                             int64_t target) {
  for (int i = 0; i < 60 && hi - lo > 1e-12; ++i) {
    const double mid = 0.5 * (lo + hi);
    MacsSolution s = solve_at(mid);
    if (s.macs == target) return {s, s};
    if (s.macs < target) {
      lo = mid;
      below = std::move(s);
    } else {
      hi = mid;
      above = std::move(s);
    }
  }
  return {below, above};
}

const MacsSolution& nearest(const std::pair<MacsSolution, MacsSolution>& sides, int64_t target) {
  return target - sides.first.macs <= sides.second.macs - target ? sides.first : sides.second;
}

}  // namespace

MacsSolution solve_macs_target(const ViTConfig& source, const SlimMasks& masks, int64_t target,
                               double tolerance, const TokenBudget& tokens, int round_to) {
  check(!tokens.shared || masks.has_tokens(),
        "tokens cannot share the MACs budget: the search had no token masks (search again with "
        "--tokens)");
  check(tolerance > 0, "MACs tolerance must be positive, got ", tolerance);
  const int64_t source_macs = compute_complexity(source).macs();
  check(target > 0 && static_cast<double>(target) <= source_macs * (1.0 + tolerance),
        "MACs target ", target, " is above the teacher's ", source_macs, " MACs ('", source.name,
        "')");
  // Attention and MLP keep fraction f; tokens keep `token_fraction` (< 0: f as well).
  auto solve_with = [&](double f, double token_fraction) {
    MacsSolution s;
    s.fractions.attn = s.fractions.mlp = f;
    s.fractions.tokens = token_fraction < 0 ? f : token_fraction;
    s.structure = structure_from_fractions(source, masks, s.fractions, round_to);
    s.macs = compact_macs(source, s.structure);
    s.target = target;
    return s;
  };
  const double first_tokens = tokens.shared ? -1.0 : tokens.fraction;
  auto solve_at = [&](double f) { return solve_with(f, first_tokens); };
  // The smallest fraction that is still positive keeps only the top-ranked entry of each type
  // (and its ties): the least MACs any extraction reaches.
  const MacsSolution least = solve_at(1e-12);
  check(static_cast<double>(least.macs) <= target * (1.0 + tolerance), "MACs target ", target,
        " (", percent_of(target, source_macs), " of the teacher's ", source_macs,
        ") is unreachable: the smallest reachable is ", least.macs, " MACs (",
        percent_of(least.macs, source_macs),
        " of the teacher), with ",
        round_to > 1 ? str_cat("the top-ranked attention dims and MLP neurons rounded to "
                               "multiples of --round-to ", round_to)
                     : std::string("one attention dim and one MLP neuron kept"),
        tokens.shared ? " and one patch token" : "");
  const MacsSolution all = solve_at(1.0);
  check(static_cast<double>(all.macs) >= target * (1.0 - tolerance), "MACs target ", target,
        " is unreachable with token keep fraction ", tokens.fraction,
        " (--budget-tokens): keeping every attention dim and MLP neuron gives ", all.macs,
        " MACs (", percent_of(all.macs, source_macs), " of the teacher), already below it");
  if (all.macs <= target) return all;
  if (least.macs >= target) return least;
  auto sides = bisect(solve_at, least.fractions.attn, 1.0, least, all, target);
  if (tokens.shared && std::abs(nearest(sides, target).relative_error()) > tolerance) {
    // One token more or less changes every later block's MACs, a larger step than the tolerance
    // allows: keep the tokens of the side above the target and let attention and MLP alone
    // (fine steps) come down to it.
    const double token_fraction = sides.second.fractions.tokens;
    auto solve_fixed = [&](double f) { return solve_with(f, token_fraction); };
    const MacsSolution low = solve_fixed(1e-12);
    if (low.macs < target) {
      sides = bisect(solve_fixed, low.fractions.attn, sides.second.fractions.attn, low,
                     sides.second, target);
    }
  }
  const MacsSolution& best = nearest(sides, target);
  check(std::abs(best.relative_error()) <= tolerance, "MACs target ", target,
        " cannot be met within ", tolerance * 100, "%: the nearest reachable values are ",
        sides.first.macs, " and ", sides.second.macs,
        " MACs (the masks' ranking changes MACs in larger steps",
        round_to > 1 ? str_cat("; --round-to ", round_to, " makes them coarser") : std::string(),
        ")");
  return best;
}

nlohmann::json macs_solution_to_json(const MacsSolution& s) {
  return {{"keep_fraction_attn", s.fractions.attn},
          {"keep_fraction_mlp", s.fractions.mlp},
          {"keep_fraction_tokens", s.fractions.tokens},
          {"target_macs", s.target},
          {"macs", s.macs},
          {"relative_error", s.relative_error()}};
}

}  // namespace vitc
