// L1-norm filter pruning on ResNets: the kept filters are those of largest L1 norm, the kept
// fraction is the largest that meets the MACs target, and a target below one filter per inner
// conv is refused naming what is reachable.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "compress/baselines/resnet_l1_filters.h"
#include "model/families/resnet/resnet_complexity.h"
#include "util/error.h"
#include "test_support.h"

namespace vitc {
namespace {

using test_support::expect_error;

TEST(ResNetL1Filters, KeepTheFiltersOfLargestL1Norm) {
  ResNet model = make_resnet(named_resnet_config("fm_resnet"), 1);
  {
    torch::NoGradGuard no_grad;
    // Block 4 (layer2.1, 32 inner filters): filter f has L1 norm proportional to (f * 7) % 32.
    auto& w = model->block(4)->conv1->weight;
    for (int f = 0; f < 32; ++f) w[f].fill_(0.01 * ((f * 7) % 32 + 1));
  }
  const ResNetStructure s = l1_filter_structure(*model, 0.25);
  std::vector<int> expected;
  for (int f = 0; f < 32; ++f) {
    if ((f * 7) % 32 >= 24) expected.push_back(f);  // the 8 largest
  }
  EXPECT_EQ(s.blocks[4].inner[0], expected);
  for (const auto& b : s.blocks) {
    EXPECT_TRUE(b.kept);
    EXPECT_EQ(b.inner[0].size() * 4, static_cast<size_t>(model->config().blocks[&b - &s.blocks[0]].inner[0]));
  }
}

TEST(ResNetL1Filters, TheLargestFractionThatMeetsTheTargetAndRefusalBelowOneFilter) {
  ResNet model = make_resnet(named_resnet_config("fm_resnet"), 2);
  const int64_t full = resnet_cost(model->config()).macs;
  for (double budget : {0.9, 0.7, 0.5}) {
    SCOPED_TRACE(budget);
    const int64_t target = static_cast<int64_t>(budget * full);
    const L1FilterChoice c = l1_filters_for_macs(*model, target);
    EXPECT_LE(c.macs, target);
    EXPECT_EQ(c.macs, resnet_cost(compact_resnet_config(model->config(), c.structure)).macs);
    // A little more and the target is exceeded.
    const ResNetStructure more = l1_filter_structure(*model, std::min(1.0, c.keep_fraction + 2e-4));
    EXPECT_GT(resnet_cost(compact_resnet_config(model->config(), more)).macs, target);
  }
  EXPECT_EQ(l1_filters_for_macs(*model, full).keep_fraction, 1.0);
  expect_error([&] { l1_filters_for_macs(*model, full / 100); },
               {"cannot reach", "one filter per inner conv", "fm_resnet"});
}

}  // namespace
}  // namespace vitc
