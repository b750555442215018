// UVC search settings: validation, the settings a resume must match, the z step schedule.
#include <cmath>

#include "compress/uvc/search.h"
#include "util/error.h"

namespace vitc {

nlohmann::json UvcSearchOptions::trajectory_json() const {
  nlohmann::json j = settings_to_json(*this);
  j["target_" + resource_key(cost.resource())] = target;
  j["zlr_schedule"] = zlr_schedule;
  return j;
}

void UvcSearchOptions::validate() const {
  validate_settings(*this, kFlagPrefix);
  check(target > 0, "the ", resource_name(cost.resource()), " budget must be positive, got ", target);
  check(warmup_epochs < epochs, "--search-warmup-epochs must be less than --search-epochs (",
        epochs, "), got ", warmup_epochs);
  check(min_lr <= lr, "--search-min-lr must be at most --search-lr (", lr, "), got ", min_lr);
  check(!zlr_schedule.empty(), "--zlr-schedule needs at least one value");
  for (double v : zlr_schedule)
    check(v >= 0 && std::isfinite(v), "--zlr-schedule values must be >= 0, got ", v);
  check(eval_batch_size >= 1, "evaluation batch size must be at least 1, got ", eval_batch_size);
  check(!out_dir.empty(), "an output directory (--out) is required");
}

double UvcSearchOptions::zlr_at(int64_t step, int64_t steps) const {
  if (steps <= 0) return zlr_schedule.front();
  const auto parts = static_cast<int64_t>(zlr_schedule.size());
  const int64_t part = std::min(parts - 1, step * parts / steps);
  return zlr_schedule[part];
}

}  // namespace vitc
