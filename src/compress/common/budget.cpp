// Parsing MACs and parameter budgets; exact MACs and parameters of a Structure.
#include "compress/common/budget.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "util/error.h"

namespace vitc {

std::string resource_name(Resource resource) {
  return resource == Resource::macs ? "MACs" : "parameters";
}

std::string resource_key(Resource resource) {
  return resource == Resource::macs ? "macs" : "params";
}

int64_t Budget::resolve(int64_t source_amount) const {
  return is_fraction ? static_cast<int64_t>(std::llround(value * static_cast<double>(source_amount)))
                     : static_cast<int64_t>(std::llround(value));
}

std::string Budget::to_string() const {
  return is_fraction ? str_cat(value, " of the teacher's ", resource_name(resource))
                     : str_cat(static_cast<long long>(std::llround(value)), " ",
                               resource_name(resource));
}

namespace {
constexpr double kMinAbsoluteCount = 1000;
}  // namespace

Budget parse_budget(const std::string& text, Resource resource, const std::string& flag) {
  const std::string noun = resource_name(resource);
  const std::string usage = str_cat(
      flag, ": cannot read '", text, "'; give a fraction of the teacher's ", noun,
      " (0.5 or 50%) or an absolute count (11100000, 11.1M, 2.3G)");
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
  Budget t;
  t.resource = resource;
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
  check(t.is_fraction || t.value >= kMinAbsoluteCount, flag, ": '", text,
        "' is neither a fraction in (0, 1] nor a plausible absolute count (at least ",
        kMinAbsoluteCount, " ", noun, "); for a percentage write '", text, "%'");
  return t;
}

Budget parse_budget_flags(const BudgetTexts& texts) {
  check(texts.macs.empty() || texts.params.empty(),
        "--macs '", texts.macs, "' and --params '", texts.params,
        "' were both given; a budget is in MACs or in parameters: give one of them");
  check(texts.given(), "give a budget: --macs (0.5, 50%, 11.1M) or --params (0.5, 50%, 2.1M)");
  const Resource resource = texts.macs.empty() ? Resource::params : Resource::macs;
  return parse_budget(texts.text(), resource, "--" + resource_key(resource));
}

std::string percent_of(int64_t part, int64_t whole) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f%%",
                100.0 * static_cast<double>(part) / static_cast<double>(whole));
  return text;
}

int64_t complexity_amount(const Complexity& complexity, Resource resource) {
  return resource == Resource::macs ? complexity.macs() : complexity.params();
}

int64_t compact_macs(const ViTConfig& source, const Structure& structure) {
  return compact_cost(source, structure, Resource::macs);
}

int64_t compact_cost(const ViTConfig& source, const Structure& structure, Resource resource) {
  return complexity_amount(compute_complexity(compact_config(source, structure)), resource);
}

int64_t source_cost(const ViTConfig& source, Resource resource) {
  return complexity_amount(compute_complexity(source), resource);
}

}  // namespace vitc
