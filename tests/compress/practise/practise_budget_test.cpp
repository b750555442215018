// PRACTISE at a MACs budget: the fewest ranked blocks whose removal meets the budget, checked
// against MACs computed independently from compact configs with those blocks skipped.
#include <gtest/gtest.h>

#include "compress/practise/practise.h"
#include "model/complexity.h"
#include "model/config.h"
#include "model/structure.h"
#include "util/error.h"

namespace vitc {
namespace {

int64_t macs_without(const ViTConfig& config, const std::vector<int>& blocks) {
  Structure s = dense_structure(config);
  for (int b : blocks) s.blocks[static_cast<size_t>(b)] = BlockKeep{true, false, {}, {}, {}};
  return compute_complexity(compact_config(config, s)).macs();
}

TEST(PractiseBudget, DropsTheFewestBlocksThatMeetTheTarget) {
  const ViTConfig config = named_config("fm_small");
  const std::vector<int> order = {3, 5, 1, 6, 2, 4};
  const int64_t full = compute_complexity(config).macs();
  for (double fraction : {0.95, 0.8, 0.7, 0.5, 0.4}) {
    const int64_t target = static_cast<int64_t>(fraction * static_cast<double>(full));
    const int d = drops_for_budget(config, order, Resource::macs, target, 0.0);
    ASSERT_GE(d, 1) << fraction;
    const std::vector<int> kept(order.begin(), order.begin() + d);
    EXPECT_LE(macs_without(config, kept), target) << fraction;
    const std::vector<int> one_less(order.begin(), order.begin() + d - 1);
    EXPECT_GT(macs_without(config, one_less), target) << fraction;
  }
  EXPECT_EQ(drops_for_budget(config, order, Resource::macs, full), 0);
}

TEST(PractiseBudget, ToleranceAcceptsATargetJustBelowOneBlock) {
  const ViTConfig config = named_config("fm_small");
  const int64_t one_dropped = macs_without(config, {3});
  EXPECT_EQ(drops_for_budget(config, {3, 5}, Resource::macs, one_dropped - one_dropped / 200, 0.01), 1);
  EXPECT_EQ(drops_for_budget(config, {3, 5}, Resource::macs, one_dropped - one_dropped / 200, 0.0), 2);
}

TEST(PractiseBudget, UnreachableTargetNamesTheSmallestReachable) {
  const ViTConfig config = named_config("fm_small");
  const int64_t smallest = macs_without(config, {1, 2});
  try {
    drops_for_budget(config, {1, 2}, Resource::macs, smallest / 2);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(std::to_string(smallest)), std::string::npos) << e.what();
  }
}

// --params: the same rule on the compact model's parameter count (a block's parameters do not
// follow its MACs: blocks are equal here, but the count is exact).
TEST(PractiseBudget, ParameterTargetDropsTheFewestBlocksThatMeetIt) {
  const ViTConfig config = named_config("fm_small");
  const std::vector<int> order = {3, 5, 1, 6, 2, 4};
  const int64_t full = compute_complexity(config).params();
  const auto params_without = [&](const std::vector<int>& blocks) {
    Structure s = dense_structure(config);
    for (int b : blocks) s.blocks[static_cast<size_t>(b)] = BlockKeep{true, false, {}, {}, {}};
    return compute_complexity(compact_config(config, s)).params();
  };
  for (double fraction : {0.9, 0.6, 0.45}) {
    const int64_t target = static_cast<int64_t>(fraction * static_cast<double>(full));
    const int d = drops_for_budget(config, order, Resource::params, target, 0.0);
    ASSERT_GE(d, 1) << fraction;
    EXPECT_LE(params_without({order.begin(), order.begin() + d}), target) << fraction;
    EXPECT_GT(params_without({order.begin(), order.begin() + d - 1}), target) << fraction;
  }
  try {
    drops_for_budget(config, {1, 2}, Resource::params, full / 10);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("parameters"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(std::to_string(params_without({1, 2}))),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace vitc
