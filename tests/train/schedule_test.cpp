// Warmup + cosine schedule against its closed form.
#include <cmath>

#include <gtest/gtest.h>

#include "train/schedule.h"

namespace vitc {
namespace {

TEST(CosineSchedule, WarmupThenCosine) {
  CosineSchedule s;
  s.base_lr = 1e-3;
  s.min_lr = 1e-5;
  s.warmup_lr = 1e-6;
  s.warmup_steps = 10;
  s.total_steps = 110;
  EXPECT_DOUBLE_EQ(s.at(0), 1e-6);
  EXPECT_NEAR(s.at(5), 1e-6 + (1e-3 - 1e-6) * 0.5, 1e-15);
  EXPECT_DOUBLE_EQ(s.at(10), 1e-3);
  EXPECT_NEAR(s.at(60), 1e-5 + 0.5 * (1e-3 - 1e-5), 1e-12);  // half way: cos(pi/2) = 0
  EXPECT_NEAR(s.at(110), 1e-5, 1e-15);
  EXPECT_NEAR(s.at(500), 1e-5, 1e-15);  // stays at the floor
  for (int64_t i = 11; i <= 110; ++i) EXPECT_LE(s.at(i), s.at(i - 1));
}

}  // namespace
}  // namespace vitc
