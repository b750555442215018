// MACs budgets shared by every method: "0.5", "50%" (a fraction of the teacher's MACs) or
// "11.1M" (an absolute count), and the exact MACs of the compact model a Structure describes.
#pragma once

#include <cstdint>
#include <string>

#include "model/config.h"
#include "model/structure.h"

namespace vitc {

// A MACs budget: a fraction of the source model's MACs, or an absolute count.
struct MacsTarget {
  double value = 0;
  bool is_fraction = true;
  int64_t resolve(int64_t source_macs) const;  // the absolute target
  std::string to_string() const;               // "0.5 of the teacher" or "11100000 MACs"
};

// "0.5" or "50%" (a fraction, in (0, 1]); "11100000", "11.1M" or "2.3G" (absolute MACs, at least
// 1000: "1.5" or "70" is an error suggesting "70%", not a model of 70 MACs).
// Throws vitc::Error naming `flag` and the accepted forms.
MacsTarget parse_macs_target(const std::string& text, const std::string& flag = "--macs");

// MACs of the compact model of `structure` (model/complexity.h on compact_config).
int64_t compact_macs(const ViTConfig& source, const Structure& structure);

// "12.34%": part as a percentage of whole, for messages.
std::string percent_of(int64_t part, int64_t whole);

}  // namespace vitc
