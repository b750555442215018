// Validation of recorded input statistics.
#include "util/input_stats.h"

#include <cmath>

#include "util/error.h"

namespace vitc {

void check_input_stats(const std::vector<double>& mean, const std::vector<double>& std,
                       int in_chans, const std::string& who) {
  check(static_cast<int>(mean.size()) == in_chans && static_cast<int>(std.size()) == in_chans,
        who, "mean and std need one value per input channel (", in_chans, "), got ", mean.size(),
        " and ", std.size());
  for (size_t c = 0; c < std.size(); ++c) {
    check(std::isfinite(mean[c]), who, "mean[", c, "] must be a finite number, got ", mean[c]);
    check(std::isfinite(std[c]) && std[c] > 0, who, "std[", c,
          "] must be a positive number (inputs are divided by it), got ", std[c]);
  }
}

}  // namespace vitc
