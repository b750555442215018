// Learning-rate schedule: linear warmup, then cosine decay to a floor (per optimizer step).
#pragma once

#include <cstdint>

namespace vitc {

struct CosineSchedule {
  double base_lr = 1e-3;
  double min_lr = 1e-5;
  double warmup_lr = 1e-6;  // lr at step 0 of the warmup
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;

  // lr for 0-based optimizer step `step`.
  double at(int64_t step) const;
};

}  // namespace vitc
