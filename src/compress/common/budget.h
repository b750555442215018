// Budgets shared by every method: how much of a resource, MACs, parameters or latency, the
// compressed model may have: "0.5", "50%" (a fraction of the teacher's) or "11.1M" (an absolute
// count; not for latency); and the cost of the compact model a Structure describes: its exact MACs
// and parameters, or its latency predicted by a table measured on this machine
// (latency_model.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "compress/common/latency_table_options.h"
#include "model/complexity.h"
#include "model/config.h"
#include "model/structure.h"

namespace vitc {

enum class Resource { macs, params, latency };

struct LatencyModel;

// "MACs", "parameters" or "latency", for messages; "macs", "params" or "latency" as the flag and
// JSON key say it.
std::string resource_name(Resource resource);
std::string resource_key(Resource resource);

// How a method counts a resource for one source model: exact MACs or parameters (complexity.h),
// or latency in picoseconds predicted by a measured LatencyModel. A Resource converts to its
// counting CostModel (macs, params); latency needs the model.
class CostModel {
 public:
  CostModel(Resource resource);  // NOLINT(google-explicit-constructor): macs or params
  explicit CostModel(std::shared_ptr<const LatencyModel> latency);
  Resource resource() const { return resource_; }
  const LatencyModel* latency() const { return latency_.get(); }
  // The latency model; throws vitc::Error unless this counts latency.
  const LatencyModel& latency_model() const;

 private:
  Resource resource_ = Resource::macs;
  std::shared_ptr<const LatencyModel> latency_;
};

// A budget: a fraction of the source model's amount of `resource`, or an absolute count.
// A latency budget is a fraction of the teacher's measured latency; its `latency` model is set
// by the command once the table is loaded (latency_table.h).
struct Budget {
  Resource resource = Resource::macs;
  double value = 0;
  bool is_fraction = true;
  std::shared_ptr<const LatencyModel> latency;
  double tolerance = 0.01;  // how close (relative) a method must come (--budget-tolerance)
  int64_t resolve(int64_t source_amount) const;  // the absolute target
  std::string to_string() const;  // "0.5 of the teacher's MACs" or "2100000 parameters"
  CostModel cost_model() const;    // throws for a latency budget without its model
};

// "0.5" or "50%" (a fraction, in (0, 1]); "11100000", "11.1M" or "2.3G" (an absolute count, at
// least 1000: "1.5" or "70" is an error suggesting "70%", not a model of 70 MACs). Latency is a
// fraction only. Throws vitc::Error naming `flag` and the accepted forms.
Budget parse_budget(const std::string& text, Resource resource, const std::string& flag);
inline Budget parse_macs_target(const std::string& text, const std::string& flag = "--macs") {
  return parse_budget(text, Resource::macs, flag);
}

// A command's --macs, --params and --latency texts (empty = not given), and how a --latency
// budget's table is measured. parse_budget_flags reads the one given; it throws naming the flags
// when several or none are given.
struct BudgetTexts {
  std::string macs, params, latency;
  double tolerance = 0.01;  // --budget-tolerance: how close (relative) the result must be
  LatencyTableOptions latency_table;
  bool given() const { return !macs.empty() || !params.empty() || !latency.empty(); }
  const std::string& text() const {  // the one given
    return !macs.empty() ? macs : !params.empty() ? params : latency;
  }
};
Budget parse_budget_flags(const BudgetTexts& texts);

// The MACs or parameters a Complexity counts (throws for latency, which no Complexity counts);
// the cost of the compact model of `structure` (model/complexity.h on compact_config, or the
// latency model's prediction), and of the source model itself (for latency: its measured time).
int64_t complexity_amount(const Complexity& complexity, Resource resource);
int64_t compact_macs(const ViTConfig& source, const Structure& structure);
int64_t compact_cost(const ViTConfig& source, const Structure& structure, const CostModel& cost);
int64_t source_cost(const ViTConfig& source, const CostModel& cost);

// "12.34%": part as a percentage of whole, for messages.
std::string percent_of(int64_t part, int64_t whole);
// An amount as messages say it: "12345678" MACs or parameters, "12.345 ms" of latency.
std::string amount_text(int64_t amount, Resource resource);

}  // namespace vitc
