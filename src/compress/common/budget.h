// Budgets shared by every method: how much of a resource, MACs or parameters, the compressed
// model may have: "0.5", "50%" (a fraction of the teacher's) or "11.1M" (an absolute count); and
// the exact MACs and parameters of the compact model a Structure describes.
#pragma once

#include <cstdint>
#include <string>

#include "model/complexity.h"
#include "model/config.h"
#include "model/structure.h"

namespace vitc {

enum class Resource { macs, params };

// "MACs" or "parameters", for messages; "macs" or "params" as the flag and JSON key say it.
std::string resource_name(Resource resource);
std::string resource_key(Resource resource);

// A budget: a fraction of the source model's amount of `resource`, or an absolute count.
struct Budget {
  Resource resource = Resource::macs;
  double value = 0;
  bool is_fraction = true;
  int64_t resolve(int64_t source_amount) const;  // the absolute target
  std::string to_string() const;  // "0.5 of the teacher's MACs" or "2100000 parameters"
};

// "0.5" or "50%" (a fraction, in (0, 1]); "11100000", "11.1M" or "2.3G" (an absolute count, at
// least 1000: "1.5" or "70" is an error suggesting "70%", not a model of 70 MACs).
// Throws vitc::Error naming `flag` and the accepted forms.
Budget parse_budget(const std::string& text, Resource resource, const std::string& flag);
inline Budget parse_macs_target(const std::string& text, const std::string& flag = "--macs") {
  return parse_budget(text, Resource::macs, flag);
}

// A command's --macs and --params texts (empty = not given). parse_budget_flags reads the one
// given; it throws naming both flags when both or neither are given.
struct BudgetTexts {
  std::string macs, params;
  bool given() const { return !macs.empty() || !params.empty(); }
  const std::string& text() const { return macs.empty() ? params : macs; }  // the one given
};
Budget parse_budget_flags(const BudgetTexts& texts);

// The MACs or parameters a Complexity counts; those of the compact model of `structure`
// (model/complexity.h on compact_config), and of the source model itself.
int64_t complexity_amount(const Complexity& complexity, Resource resource);
int64_t compact_macs(const ViTConfig& source, const Structure& structure);
int64_t compact_cost(const ViTConfig& source, const Structure& structure, Resource resource);
int64_t source_cost(const ViTConfig& source, Resource resource);

// "12.34%": part as a percentage of whole, for messages.
std::string percent_of(int64_t part, int64_t whole);

}  // namespace vitc
