// Parsing MACs budgets and meeting them by bisection on a shared keep fraction.
#include "compress/slim/macs_target.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "model/complexity.h"
#include "util/error.h"

namespace vitc {

int64_t MacsTarget::resolve(int64_t source_macs) const {
  return is_fraction ? static_cast<int64_t>(std::llround(value * static_cast<double>(source_macs)))
                     : static_cast<int64_t>(std::llround(value));
}

std::string MacsTarget::to_string() const {
  return is_fraction ? str_cat(value, " of the teacher's MACs") : str_cat(value, " MACs");
}

MacsTarget parse_macs_target(const std::string& text) {
  const std::string usage = str_cat(
      "--macs: cannot read '", text,
      "'; give a fraction of the teacher's MACs (0.5 or 50%) or an absolute count (11100000, "
      "11.1M, 2.3G)");
  check(!text.empty(), usage);
  const char last = text.back();
  const bool percent = last == '%';
  const double scale = last == 'k' || last == 'K' ? 1e3
                       : last == 'M'              ? 1e6
                       : last == 'G'              ? 1e9
                                                  : 1.0;
  std::string number = text;
  if (percent || scale != 1.0) number.pop_back();
  char* end = nullptr;
  const double value = std::strtod(number.c_str(), &end);
  check(!number.empty() && end == number.c_str() + number.size() && std::isfinite(value), usage);
  MacsTarget t;
  if (percent) {
    t.value = value / 100.0;
  } else {
    t.value = value * scale;
    t.is_fraction = scale == 1.0 && value <= 1.0;
  }
  check(t.value > 0, "--macs must be positive, got '", text, "'");
  check(!t.is_fraction || t.value <= 1.0, "--macs as a fraction must lie in (0, 1], got '", text,
        "'");
  return t;
}

namespace {

std::string percent_of(int64_t part, int64_t whole) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f%%",
                100.0 * static_cast<double>(part) / static_cast<double>(whole));
  return text;
}

}  // namespace

int64_t compact_macs(const ViTConfig& source, const Structure& structure) {
  return compute_complexity(compact_config(source, structure)).macs();
}

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
