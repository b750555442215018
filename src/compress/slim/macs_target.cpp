// Meeting a ViT-Slim MACs budget by bisection on a shared keep fraction of the ranked masks.
#include "compress/slim/macs_target.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "model/complexity.h"
#include "util/error.h"

namespace vitc {

double MacsSolution::relative_error() const {
  return target > 0 ? static_cast<double>(macs - target) / static_cast<double>(target) : 0.0;
}

MacsSolution solve_macs_target(const ViTConfig& source, const SlimMasks& masks, int64_t target,
                               double tolerance) {
  check(tolerance > 0, "MACs tolerance must be positive, got ", tolerance);
  const int64_t source_macs = compute_complexity(source).macs();
  check(target > 0 && static_cast<double>(target) <= source_macs * (1.0 + tolerance),
        "MACs target ", target, " is above the teacher's ", source_macs, " MACs ('", source.name,
        "')");
  auto solve_at = [&](double f) {
    MacsSolution s;
    s.fractions.attn = s.fractions.mlp = f;
    s.structure = structure_from_fractions(source, masks, s.fractions);
    s.macs = compact_macs(source, s.structure);
    s.target = target;
    return s;
  };
  // The smallest fraction that is still positive keeps only the top-ranked entry of each type
  // (and its ties): the least MACs any extraction reaches.
  MacsSolution below = solve_at(1e-12);
  check(static_cast<double>(below.macs) <= target * (1.0 + tolerance), "MACs target ", target, " (",
        percent_of(target, source_macs), " of the teacher's ", source_macs,
        ") is unreachable: the smallest reachable is ", below.macs, " MACs (",
        percent_of(below.macs, source_macs),
        " of the teacher), with one attention dim and one MLP neuron kept");
  MacsSolution above = solve_at(1.0);
  if (above.macs <= target) return above;
  if (below.macs >= target) return below;
  // Invariant: below.macs < target < above.macs.
  double lo = below.fractions.attn, hi = 1.0;
  for (int i = 0; i < 60 && hi - lo > 1e-12; ++i) {
    const double mid = 0.5 * (lo + hi);
    MacsSolution s = solve_at(mid);
    if (s.macs == target) return s;
    if (s.macs < target) {
      lo = mid;
      below = std::move(s);
    } else {
      hi = mid;
      above = std::move(s);
    }
  }
  MacsSolution& best = target - below.macs <= above.macs - target ? below : above;
  check(std::abs(best.relative_error()) <= tolerance, "MACs target ", target,
        " cannot be met within ", tolerance * 100, "%: the nearest reachable values are ",
        below.macs, " and ", above.macs, " MACs (the masks' ranking changes MACs in larger steps)");
  return best;
}

nlohmann::json macs_solution_to_json(const MacsSolution& s) {
  return {{"keep_fraction_attn", s.fractions.attn},
          {"keep_fraction_mlp", s.fractions.mlp},
          {"target_macs", s.target},
          {"macs", s.macs},
          {"relative_error", s.relative_error()}};
}

}  // namespace vitc
