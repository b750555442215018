// ViT-Slim MACs and parameter budgets: extraction that meets a target within 1% on several targets,
// clear errors for targets no extraction reaches.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "compress/slim/budget_target.h"
#include "compress/round_to_test_util.h"
#include "model/complexity.h"
#include "slim_test_util.h"
#include "util/error.h"
#include "test_support.h"

namespace vitc {
namespace {

using test_support::error_of;

TEST(Budget, MeetsSeveralTargetsWithinOnePercent) {
  // fm_small's geometry: 8 blocks, 4 heads of 16, MLP 256, 50 tokens.
  const ViTConfig config = named_config("fm_small");
  const int64_t teacher = compute_complexity(config).macs();
  for (uint64_t seed : {1, 2}) {
    const SlimMasks masks = test::random_masks(config, seed);
    for (double f : {0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0}) {
      const int64_t target = std::llround(f * teacher);
      const BudgetSolution s = solve_budget_target(config, masks, Resource::macs, target);
      EXPECT_LE(std::abs(s.relative_error()), 0.01) << "fraction " << f << " seed " << seed;
      EXPECT_EQ(s.cost, compute_complexity(compact_config(config, s.structure)).macs());
      EXPECT_EQ(s.fractions.attn, s.fractions.mlp);
      EXPECT_EQ(s.structure, structure_from_fractions(config, masks, s.fractions));
    }
  }
  const BudgetSolution absolute = solve_budget_target(config, test::random_masks(config, 3), Resource::macs, 9000000);
  EXPECT_NEAR(absolute.cost, 9000000, 90000);
}

TEST(Budget, TokensSharingTheFractionMeetTargetsWithinOnePercent) {
  const ViTConfig config = named_config("fm_small");  // 49 patches
  const int64_t teacher = compute_complexity(config).macs();
  const SlimMasks masks = test::random_masks(config, 5, /*with_tokens=*/true);
  for (double f : {0.2, 0.3, 0.5, 0.7, 0.9}) {
    const int64_t target = std::llround(f * teacher);
    const BudgetSolution s = solve_budget_target(config, masks, Resource::macs, target, 0.01, TokenBudget{true, 1.0});
    EXPECT_LE(std::abs(s.relative_error()), 0.01) << "fraction " << f;
    EXPECT_GE(s.fractions.tokens, s.fractions.attn);  // equal, or tokens fixed a step above
    EXPECT_EQ(s.cost, compute_complexity(compact_config(config, s.structure)).macs());
    EXPECT_TRUE(compact_config(config, s.structure).drops_tokens()) << "fraction " << f;
  }
  // A fixed token fraction stays fixed while attention and MLP meet the target.
  const int64_t ceiling = compact_macs(config, structure_from_fractions(config, masks, {1.0, 1.0, 0.9}));
  const BudgetSolution fixed =
      solve_budget_target(config, masks, Resource::macs, ceiling * 7 / 10, 0.01, TokenBudget{false, 0.9});
  EXPECT_EQ(fixed.fractions.tokens, 0.9);
  EXPECT_LE(std::abs(fixed.relative_error()), 0.01);
  const std::string above = error_of([&] {
    solve_budget_target(config, masks, Resource::macs, ceiling * 3 / 2, 0.01, TokenBudget{false, 0.9});
  });
  EXPECT_NE(above.find("--budget-tokens"), std::string::npos) << above;
  EXPECT_THROW(solve_budget_target(config, test::random_masks(config, 5), Resource::macs, teacher / 2, 0.01,
                                 TokenBudget{true, 1.0}),
               Error);
}

TEST(Budget, UnreachableTargetsNameTheReachableRange) {
  const ViTConfig config = named_config("fm_small");
  const int64_t teacher = compute_complexity(config).macs();
  const SlimMasks masks = test::random_masks(config, 4);
  const std::string low = error_of([&] { solve_budget_target(config, masks, Resource::macs, teacher / 1000); });
  EXPECT_NE(low.find("smallest reachable"), std::string::npos) << low;
  // The smallest reachable: the top-ranked attention dim and MLP neuron only.
  const int64_t least = compact_macs(config, structure_from_fractions(config, masks, {1e-9, 1e-9}));
  EXPECT_NE(low.find(std::to_string(least)), std::string::npos) << low;
  EXPECT_LE(std::abs(solve_budget_target(config, masks, Resource::macs, least).cost - least), least / 100);
  const std::string high = error_of([&] { solve_budget_target(config, masks, Resource::macs, teacher * 2); });
  EXPECT_NE(high.find("above the teacher"), std::string::npos) << high;
}

// --round-to 8 on fm_small (heads of 16 dims, MLP 256): every head keeps 8 or 16 dims (or goes),
// every MLP a multiple of 8, filled by the highest mask values; targets still met within 1%.
TEST(Budget, RoundToKeepsWidthsOnTheGridWithinOnePercent) {
  const ViTConfig config = named_config("fm_small");
  const int64_t teacher = compute_complexity(config).macs();
  const SlimMasks masks = test::random_masks(config, 4);
  for (double f : {0.5, 0.7, 0.9}) {  // (8 dims of a head cost 0.6% of fm_small's MACs)
    const int64_t target = std::llround(f * teacher);
    const BudgetSolution s = solve_budget_target(config, masks, Resource::macs, target, 0.01, {}, 8);
    EXPECT_LE(std::abs(s.relative_error()), 0.01) << "fraction " << f;
    EXPECT_EQ(s.cost, compute_complexity(compact_config(config, s.structure)).macs());
    test::expect_widths_on_grid(s.structure, config, 8, /*qk=*/true, str_cat("fraction ", f));
    // Within a block the kept neurons are the block's best by mask value.
    const at::Tensor mlp = masks.mlp.detach().to(torch::kDouble);
    for (size_t l = 0; l < s.structure.blocks.size(); ++l) {
      const std::vector<int>& kept = s.structure.blocks[l].mlp;
      if (kept.empty()) continue;
      double worst_kept = 1e300, best_dropped = -1e300;
      std::vector<bool> is_kept(static_cast<size_t>(config.blocks[l].mlp_hidden), false);
      for (int n : kept) is_kept[static_cast<size_t>(n)] = true;
      for (int n = 0; n < config.blocks[l].mlp_hidden; ++n) {
        const double v = mlp[static_cast<int64_t>(l)][n].item<double>();
        if (is_kept[static_cast<size_t>(n)]) worst_kept = std::min(worst_kept, v);
        else best_dropped = std::max(best_dropped, v);
      }
      EXPECT_GE(worst_kept, best_dropped) << "fraction " << f << " block " << l;
    }
  }
}


// A parameter budget: the same bisection on the compact model's exact parameter count; tokens
// (which hold no parameters) cannot share it.
TEST(Budget, ParameterTargetsAreMetWithinOnePercent) {
  const ViTConfig config = named_config("fm_small");
  const int64_t teacher = compute_complexity(config).params();
  const SlimMasks masks = test::random_masks(config, 6);
  for (double f : {0.4, 0.6, 0.8}) {
    const int64_t target = std::llround(f * teacher);
    const BudgetSolution s = solve_budget_target(config, masks, Resource::params, target);
    EXPECT_LE(std::abs(s.relative_error()), 0.01) << "fraction " << f;
    EXPECT_EQ(s.resource, Resource::params);
    EXPECT_EQ(s.cost, compute_complexity(compact_config(config, s.structure)).params());
    EXPECT_EQ(budget_solution_to_json(s).at("params").get<int64_t>(), s.cost);
  }
  const std::string high =
      error_of([&] { solve_budget_target(config, masks, Resource::params, teacher * 2); });
  EXPECT_NE(high.find("parameters"), std::string::npos) << high;
  const SlimMasks with_tokens = test::random_masks(config, 6, /*tokens=*/true);
  const std::string shared = error_of([&] {
    solve_budget_target(config, with_tokens, Resource::params, teacher / 2, 0.01,
                        TokenBudget{true, 1.0});
  });
  EXPECT_NE(shared.find("tokens hold no parameters"), std::string::npos) << shared;
}

}  // namespace
}  // namespace vitc
