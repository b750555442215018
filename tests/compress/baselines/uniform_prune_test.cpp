// Uniform pruning baselines: budgets met within 1% with the same keep counts in every block,
// magnitude keeps the largest groups, random is seeded, unreachable budgets are clear errors.
#include <set>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "compress/baselines/uniform_prune.h"
#include "compress/common/budget.h"
#include "compress/round_to_test_util.h"
#include "model/complexity.h"
#include "model/slice_test_util.h"
#include "util/error.h"

namespace vitc {
namespace {

VisionTransformer random_model(const std::string& config, uint64_t seed) {
  VisionTransformer model = make_model(named_config(config), seed);
  test::randomize_parameters(*model, seed);
  return model;
}

TEST(UniformPrune, MeetsBudgetsWithinOnePercentAlikeInEveryBlock) {
  VisionTransformer model = random_model("fm_small", 1);
  const int64_t teacher = compute_complexity(model->config()).macs();
  for (PruneCriterion criterion : {PruneCriterion::kRandom, PruneCriterion::kMagnitude}) {
    for (double fraction : {0.9, 0.7, 0.5, 0.4, 0.25}) {
      const int64_t target = static_cast<int64_t>(fraction * teacher);
      UniformPruneOptions o;
      o.criterion = criterion;
      const UniformPrune p = uniform_prune(*model, Resource::macs, target, o);
      validate_structure(p.structure, model->config());
      EXPECT_EQ(p.cost, compact_macs(model->config(), p.structure));
      EXPECT_LE(std::abs(static_cast<double>(p.cost - target)) / target, 0.01)
          << to_string(criterion) << " at " << fraction;
      for (const BlockKeep& b : p.structure.blocks) {
        EXPECT_EQ(b.heads.size(), p.structure.blocks[0].heads.size());
        EXPECT_EQ(b.mlp.size(), p.structure.blocks[0].mlp.size());
        for (const HeadKeep& h : b.heads) EXPECT_EQ(h.qk.size(), 16u);  // whole heads
      }
      // Attention and MLP pruned alike: the head fraction is the nearest one to the MLP's.
      EXPECT_LE(std::abs(p.head_fraction - p.mlp_fraction), 0.25) << fraction;  // one head step
    }
  }
}

TEST(UniformPrune, MagnitudeKeepsTheLargestHeadsAndNeurons) {
  VisionTransformer model = random_model("fm_tiny", 2);
  {
    torch::NoGradGuard no_grad;
    Block block = model->block(1);
    // Head 2 of block 1: its q, k, v rows (16 each) and proj columns scaled up.
    for (int part = 0; part < 3; ++part)
      block->attn->qkv->weight.narrow(0, part * 64 + 2 * 16, 16).mul_(20.0);
    block->attn->proj->weight.narrow(1, 2 * 16, 16).mul_(20.0);
    // Neurons 5 and 77 of block 3.
    model->block(3)->mlp->fc1->weight.narrow(0, 5, 1).mul_(20.0);
    model->block(3)->mlp->fc1->weight.narrow(0, 77, 1).mul_(20.0);
  }
  const int64_t teacher = compute_complexity(model->config()).macs();
  UniformPruneOptions o;
  o.criterion = PruneCriterion::kMagnitude;
  const UniformPrune p = uniform_prune(*model, Resource::macs, teacher / 4, o);
  ASSERT_EQ(p.structure.blocks[1].heads.size(), 1u);
  EXPECT_EQ(p.structure.blocks[1].heads[0].source, 2);
  const std::vector<int>& mlp = p.structure.blocks[3].mlp;
  ASSERT_LT(mlp.size(), 128u);
  EXPECT_TRUE(std::set<int>(mlp.begin(), mlp.end()).count(5));
  EXPECT_TRUE(std::set<int>(mlp.begin(), mlp.end()).count(77));
}

TEST(UniformPrune, RandomIsSeeded) {
  VisionTransformer model = random_model("fm_tiny", 3);
  const int64_t target = compute_complexity(model->config()).macs() / 2;
  UniformPruneOptions o;
  o.criterion = PruneCriterion::kRandom;
  o.seed = 7;
  const Structure a = uniform_prune(*model, Resource::macs, target, o).structure;
  EXPECT_EQ(a, uniform_prune(*model, Resource::macs, target, o).structure);
  o.seed = 8;
  EXPECT_FALSE(a == uniform_prune(*model, Resource::macs, target, o).structure);
}

TEST(UniformPrune, UnreachableBudgetsAndBadCriteriaAreClearErrors) {
  VisionTransformer model = random_model("fm_tiny", 4);
  const int64_t teacher = compute_complexity(model->config()).macs();
  const UniformPruneOptions o;
  try {
    uniform_prune(*model, Resource::macs, teacher / 100, o);
    FAIL() << "1% of the MACs cannot be met";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot be met"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("nearest reachable"), std::string::npos) << e.what();
  }
  EXPECT_THROW(uniform_prune(*model, Resource::macs, teacher * 2, o), Error);
  try {
    parse_prune_criterion("taylor");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("random, magnitude"), std::string::npos);
  }
}

// A target just below the smallest model uniform pruning can make (one head and one neuron per
// block), but within the tolerance of it, is met by that model, not refused.
TEST(UniformPrune, ATargetJustBelowTheSmallestModelWithinToleranceIsMet) {
  VisionTransformer model = random_model("fm_tiny", 4);
  const int64_t teacher = compute_complexity(model->config()).macs();
  UniformPruneOptions o;
  o.tolerance = 0.01;
  int64_t smallest = 0;
  try {
    uniform_prune(*model, Resource::macs, teacher / 100, o);
    FAIL() << "1% of the MACs cannot be met";
  } catch (const Error&) {
  }
  // The smallest reachable cost: search down from 50% until refused, keeping the last cost met.
  for (double f = 0.5; f > 0.0; f *= 0.9) {
    try {
      smallest = uniform_prune(*model, Resource::macs, static_cast<int64_t>(f * teacher), o).cost;
    } catch (const Error&) {
      break;
    }
  }
  ASSERT_GT(smallest, 0);
  o.tolerance = 0.2;
  const int64_t target = static_cast<int64_t>(static_cast<double>(smallest) / 1.1);
  const UniformPrune p = uniform_prune(*model, Resource::macs, target, o);
  EXPECT_LE(std::abs(static_cast<double>(p.cost - target)) / static_cast<double>(target), 0.2);
}

// --round-to 8: every block's MLP width a multiple of 8, the budget within 1%.
TEST(UniformPrune, RoundToKeepsMlpWidthsOnTheGrid) {
  VisionTransformer model = random_model("fm_small", 1);
  const int64_t teacher = compute_complexity(model->config()).macs();
  for (double fraction : {0.9, 0.7, 0.5, 0.3}) {
    UniformPruneOptions o;
    o.round_to = 8;
    const UniformPrune p = uniform_prune(*model, Resource::macs, static_cast<int64_t>(fraction * teacher), o);
    EXPECT_LE(std::abs(static_cast<double>(p.cost - p.target)) / p.target, 0.01) << fraction;
    test::expect_widths_on_grid(p.structure, model->config(), 8, /*qk=*/true,
                                str_cat("fraction ", fraction));
    EXPECT_EQ(p.to_json()["round_to"], 8);
  }
}

}  // namespace
}  // namespace vitc
