// --round-to's grid: the allowed kept widths (multiples, the full width, 0 where a part may go),
// nearest / at most / next steps, and resizing a kept set by the method's scores.
#include <gtest/gtest.h>

#include "compress/common/round_to.h"
#include "test_support.h"

namespace vitc {
namespace {

TEST(RoundTo, AllowsMultiplesAndTheFullWidth) {
  const RoundTo grid(8);
  EXPECT_TRUE(grid.allows(8, 20));
  EXPECT_TRUE(grid.allows(16, 20));
  EXPECT_TRUE(grid.allows(20, 20));  // a full width that is not a multiple stays whole
  EXPECT_FALSE(grid.allows(12, 20));
  EXPECT_FALSE(grid.allows(0, 20));
  EXPECT_TRUE(grid.allows(0, 20, /*zero_allowed=*/true));
  EXPECT_FALSE(grid.allows(24, 20));
  EXPECT_EQ(grid.smallest(20), 8);
  EXPECT_EQ(grid.smallest(5), 5);
  EXPECT_TRUE(RoundTo(1).allows(7, 20));
  test_support::expect_error([] { RoundTo(0); }, {"--round-to", "positive integer", "0"});
}

TEST(RoundTo, NearestAtMostAndSteps) {
  const RoundTo grid(8);
  EXPECT_EQ(grid.nearest(11, 64), 8);
  EXPECT_EQ(grid.nearest(12, 64), 16);  // ties: the larger
  EXPECT_EQ(grid.nearest(3, 64), 8);    // at least the smallest width ...
  EXPECT_EQ(grid.nearest(3, 64, true), 0);  // ... unless the part may go
  EXPECT_EQ(grid.nearest(4, 64, true), 8);
  EXPECT_EQ(grid.nearest(19, 20), 20);  // nearer the full width than 16
  EXPECT_EQ(grid.nearest(17, 20), 16);
  EXPECT_EQ(grid.at_most(15, 64), 8);
  EXPECT_EQ(grid.at_most(5, 64), 8);
  EXPECT_EQ(grid.at_most(5, 64, true), 0);
  EXPECT_EQ(grid.at_most(64, 64), 64);
  EXPECT_EQ(grid.next_above(8, 20), 16);
  EXPECT_EQ(grid.next_above(16, 20), 20);
  EXPECT_EQ(grid.next_above(20, 20), -1);
  EXPECT_EQ(grid.next_below(20, 20), 16);
  EXPECT_EQ(grid.next_below(16, 20), 8);
  EXPECT_EQ(grid.next_below(8, 20), -1);
  EXPECT_EQ(grid.next_below(8, 20, true), 0);
  const RoundTo one(1);
  EXPECT_EQ(one.next_above(7, 20), 8);
  EXPECT_EQ(one.next_below(7, 20), 6);
  EXPECT_EQ(one.nearest(7, 20), 7);
}

TEST(RoundTo, ResizeKeptFollowsTheScores) {
  const std::vector<double> scores = {0.9, 0.1, 0.5, 0.7, 0.3, 0.8};
  // Grown by the best entries not kept, in index order.
  EXPECT_EQ(resize_kept({0, 4}, scores, 4), (std::vector<int>{0, 3, 4, 5}));
  // Shrunk by dropping the worst kept ones (4 before 2), even if others score higher.
  EXPECT_EQ(resize_kept({4, 2, 1}, scores, 1), (std::vector<int>{2}));
  EXPECT_EQ(resize_kept({1, 2}, scores, 2), (std::vector<int>{1, 2}));
  EXPECT_EQ(resize_kept({1}, scores, 0), (std::vector<int>{}));
  test_support::expect_error([&] { resize_kept({0}, scores, 7); }, {"cannot keep 7 of 6"});
}

}  // namespace
}  // namespace vitc
