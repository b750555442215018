// Parsing MACs and parameter budgets; exact MACs and parameters of a Structure.
#include "compress/common/budget.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "compress/common/latency_model.h"
#include "util/error.h"

namespace vitc {

std::string resource_name(Resource resource) {
  return resource == Resource::macs     ? "MACs"
         : resource == Resource::params ? "parameters"
                                        : "latency";
}

std::string resource_key(Resource resource) {
  return resource == Resource::macs     ? "macs"
         : resource == Resource::params ? "params"
                                        : "latency";
}

CostModel::CostModel(Resource resource) : resource_(resource) {
  check(resource != Resource::latency,
        "internal: a latency cost needs its measured latency model (CostModel(LatencyModel))");
}

CostModel::CostModel(std::shared_ptr<const LatencyModel> latency)
    : resource_(Resource::latency), latency_(std::move(latency)) {
  check(latency_ != nullptr, "internal: CostModel given no latency model");
}

const LatencyModel& CostModel::latency_model() const {
  check(latency_ != nullptr, "internal: ", resource_name(resource_), " is not a latency cost");
  return *latency_;
}

CostModel Budget::cost_model() const {
  if (resource != Resource::latency) return CostModel(resource);
  check(latency != nullptr, "internal: the latency budget has no latency table yet");
  return CostModel(latency);
}

int64_t Budget::resolve(int64_t source_amount) const {
  return is_fraction ? static_cast<int64_t>(std::llround(value * static_cast<double>(source_amount)))
                     : static_cast<int64_t>(std::llround(value));
}

std::string Budget::to_string() const {
  return is_fraction ? str_cat(value, " of the teacher's ", resource_name(resource),
                               resource == Resource::latency ? " (measured)" : "")
                     : str_cat(static_cast<long long>(std::llround(value)), " ",
                               resource_name(resource));
}

namespace {
constexpr double kMinAbsoluteCount = 1000;
}  // namespace

Budget parse_budget(const std::string& text, Resource resource, const std::string& flag) {
  const std::string noun = resource_name(resource);
  const std::string usage = str_cat(
      flag, ": cannot read '", text, "'; give a fraction of the teacher's ", noun, " (0.5 or 50%)",
      resource == Resource::latency ? std::string()
                                    : std::string(" or an absolute count (11100000, 11.1M, 2.3G)"));
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
  check(resource != Resource::latency || t.is_fraction, flag, " '", text,
        "': a latency budget is a fraction of the teacher's measured latency on this machine, in "
        "(0, 1] (0.5 or 50%), not an absolute time");
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
  const int given = (texts.macs.empty() ? 0 : 1) + (texts.params.empty() ? 0 : 1) +
                    (texts.latency.empty() ? 0 : 1);
  check(given <= 1, "several budgets were given (--macs '", texts.macs, "', --params '",
        texts.params, "', --latency '", texts.latency,
        "'); a budget is in MACs, parameters or latency: give one of them");
  check(texts.given(),
        "give a budget: --macs (0.5, 50%, 11.1M), --params (0.5, 50%, 2.1M) or --latency "
        "(0.5, 50% of the teacher's measured latency)");
  const Resource resource = !texts.macs.empty()     ? Resource::macs
                            : !texts.params.empty() ? Resource::params
                                                    : Resource::latency;
  check(texts.tolerance > 0 && texts.tolerance < 1,
        "--budget-tolerance must lie in (0, 1), got ", texts.tolerance);
  Budget budget = parse_budget(texts.text(), resource, "--" + resource_key(resource));
  budget.tolerance = texts.tolerance;
  return budget;
}

std::string percent_of(int64_t part, int64_t whole) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f%%",
                100.0 * static_cast<double>(part) / static_cast<double>(whole));
  return text;
}

int64_t complexity_amount(const Complexity& complexity, Resource resource) {
  check(resource != Resource::latency,
        "internal: latency is predicted by a latency model, not counted by complexity.h");
  return resource == Resource::macs ? complexity.macs() : complexity.params();
}

std::string amount_text(int64_t amount, Resource resource) {
  if (resource != Resource::latency) return std::to_string(amount);
  char text[48];
  std::snprintf(text, sizeof text, "%.3f ms", latency_ps_to_ms(amount));
  return text;
}

int64_t compact_macs(const ViTConfig& source, const Structure& structure) {
  return compact_cost(source, structure, Resource::macs);
}

int64_t compact_cost(const ViTConfig& source, const Structure& structure, const CostModel& cost) {
  if (cost.resource() == Resource::latency) {
    return latency_ms_to_ps(cost.latency_model().predict_ms(source, structure));
  }
  return complexity_amount(compute_complexity(compact_config(source, structure)), cost.resource());
}

int64_t source_cost(const ViTConfig& source, const CostModel& cost) {
  if (cost.resource() == Resource::latency) {
    return latency_ms_to_ps(cost.latency_model().source_ms);
  }
  return complexity_amount(compute_complexity(source), cost.resource());
}

}  // namespace vitc
