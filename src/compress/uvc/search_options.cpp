// UVC search settings: validation, the settings a resume must match, the z step schedule.
#include <cmath>

#include "compress/uvc/search.h"
#include "util/error.h"

namespace vitc {

nlohmann::json UvcSearchOptions::trajectory_json() const {
  return {{"target_macs", target_macs},
          {"epochs", epochs},
          {"warmup_epochs", warmup_epochs},
          {"warmup_gate", warmup_gate},
          {"batch_size", batch_size},
          {"lr", lr},
          {"min_lr", min_lr},
          {"lr_warmup_epochs", lr_warmup_epochs},
          {"weight_decay", weight_decay},
          {"clip_grad", clip_grad},
          {"loss", loss.to_json()},
          {"primal_dual", primal_dual.to_json()},
          {"zlr_schedule", zlr_schedule},
          {"seed", seed},
          {"augment_pad", augment.pad},
          {"augment_hflip", augment.hflip},
          {"max_steps_per_epoch", max_steps_per_epoch}};
}

void UvcSearchOptions::validate() const {
  check(target_macs > 0, "the MACs budget must be positive, got ", target_macs);
  check(epochs >= 1, "--search-epochs must be at least 1, got ", epochs);
  check(warmup_epochs >= 0 && warmup_epochs < epochs, "--search-warmup-epochs must lie in [0, ",
        epochs, ") (the search epochs), got ", warmup_epochs);
  check(warmup_gate >= 0 && warmup_gate <= 1, "--warmup-gate must lie in [0, 1], got ",
        warmup_gate);
  check(batch_size >= 1, "--search-batch-size must be at least 1, got ", batch_size);
  check(lr > 0 && std::isfinite(lr), "--search-lr must be positive, got ", lr);
  check(min_lr >= 0 && min_lr <= lr, "--search-min-lr must lie in [0, ", lr, "], got ", min_lr);
  check(lr_warmup_epochs >= 0, "--search-lr-warmup-epochs must be >= 0, got ", lr_warmup_epochs);
  check(weight_decay >= 0, "--search-weight-decay must be >= 0, got ", weight_decay);
  check(clip_grad >= 0, "--search-clip-grad must be >= 0 (0 disables it), got ", clip_grad);
  loss.validate();
  primal_dual.validate();
  check(!zlr_schedule.empty(), "--zlr-schedule needs at least one value");
  for (double v : zlr_schedule) check(v >= 0 && std::isfinite(v), "--zlr-schedule values must be >= 0, got ", v);
  check(augment.pad >= 0, "augmentation padding must be >= 0, got ", augment.pad);
  check(eval_batch_size >= 1, "evaluation batch size must be at least 1, got ", eval_batch_size);
  check(max_steps_per_epoch >= 0, "--search-max-steps-per-epoch must be >= 0, got ",
        max_steps_per_epoch);
  check(!out_dir.empty(), "an output directory (--out) is required");
}

double UvcSearchOptions::zlr_at(int64_t step, int64_t steps) const {
  if (steps <= 0) return zlr_schedule.front();
  const auto parts = static_cast<int64_t>(zlr_schedule.size());
  const int64_t part = std::min(parts - 1, step * parts / steps);
  return zlr_schedule[part];
}

}  // namespace vitc
