// Parsing MACs budgets; exact MACs of a Structure.
#include "compress/common/macs_budget.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

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

namespace {
constexpr double kMinAbsoluteMacs = 1000;
}  // namespace

MacsTarget parse_macs_target(const std::string& text, const std::string& flag) {
  const std::string usage = str_cat(
      flag, ": cannot read '", text,
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
  check(t.value > 0, flag, " must be positive, got '", text, "'");
  check(!t.is_fraction || t.value <= 1.0, flag, " as a fraction must lie in (0, 1], got '", text,
        "'");
  // "1.5" or "70" is a fraction or percentage typed wrongly, not a model of a few MACs.
  check(t.is_fraction || t.value >= kMinAbsoluteMacs, flag, ": '", text,
        "' is neither a fraction in (0, 1] nor a plausible absolute count (at least ",
        kMinAbsoluteMacs, " MACs); for a percentage write '", text, "%'");
  return t;
}

std::string percent_of(int64_t part, int64_t whole) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f%%",
                100.0 * static_cast<double>(part) / static_cast<double>(whole));
  return text;
}


int64_t compact_macs(const ViTConfig& source, const Structure& structure) {
  return compute_complexity(compact_config(source, structure)).macs();
}

}  // namespace vitc
