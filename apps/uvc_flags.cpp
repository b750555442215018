// Registration, parsing and validation of the `vitc uvc run` flags.
#include "uvc_flags.h"

#include "setting_flags.h"

#include <cstdlib>
#include <sstream>

#include "compress/common/budget.h"
#include "util/error.h"

namespace vitc::app {

namespace {

std::vector<double> parse_schedule(const std::string& text) {
  std::vector<double> values;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    char* end = nullptr;
    const double v = std::strtod(item.c_str(), &end);
    check(!item.empty() && end == item.c_str() + item.size(), "--zlr-schedule: cannot read '",
          item, "' in '", text, "'; expected comma-separated numbers such as 1,5,9,13,17");
    values.push_back(v);
  }
  check(!values.empty(), "--zlr-schedule: expected comma-separated numbers, got '", text, "'");
  return values;
}

}  // namespace

void UvcFlags::add_to(CLI::App& cmd) {
  add_budget_flags(cmd, budget, "the compressed model (one of them is required)");
  add_renamed_flag(cmd, "--budget", "--macs", /*takes_value=*/true,
                   " (the same values: 0.5, 50%, 11.1M)");
  add_renamed_flag(cmd, "--macs-tolerance", "--budget-tolerance", /*takes_value=*/true);
  add_round_to_flag(cmd, round_to);
  add_setting_flags(cmd, search, UvcSearchOptions::kFlagPrefix, "stage-1 ");
  cmd.add_option("--zlr-schedule", zlr_schedule,
                 "dual step of the budget multiplier z, piecewise constant over equal parts of "
                 "the search after the warmup (e.g. 1,5,9,13,17)")
      ->capture_default_str();
  finetune.add_to(cmd, "stage-2 ");
}

void UvcFlags::validate_early() const {
  parse_budget_flags(budget);
  UvcSearchOptions early = search;  // every check but the budget's size
  early.zlr_schedule = parse_schedule(zlr_schedule);
  early.target = 1;
  early.out_dir = "-";
  early.validate();
  finetune.get("-", false, true);
}

UvcRunOptions UvcFlags::get(const ViTConfig& teacher, const Budget& parsed,
                            const std::string& out_dir, bool resume, bool quiet) const {
  UvcRunOptions o;
  o.search = search;
  o.budget_tolerance = budget.tolerance;
  o.round_to = round_to;
  o.search.cost = parsed.cost_model();
  o.search.target = parsed.resolve(source_cost(teacher, o.search.cost));
  o.search.zlr_schedule = parse_schedule(zlr_schedule);
  o.search.out_dir = out_dir + "/search";
  o.search.resume = resume;
  o.search.quiet = quiet;
  o.finetune = finetune.get(out_dir, resume, quiet);
  o.validate();
  return o;
}

}  // namespace vitc::app
