// ViT-Slim ranking: the reference's threshold rule, Structures from hand-built masks (heads,
// attention branches, MLPs and whole blocks removed), and the paper's forward token rule.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "compress/slim/ranking.h"
#include "model/complexity.h"
#include "util/error.h"

namespace vitc {
namespace {

// 3 blocks, 2 heads of 4 dims, MLP 4; 2x2 patches of 7x7 on 14x14 images.
ViTConfig small_config() { return make_uniform_config("small", 14, 7, 1, 3, 8, 3, 2, 0.5, false); }

TEST(Ranking, ThresholdIsTheReferenceIndex) {
  const at::Tensor v = torch::tensor({0.1, -0.2, 0.5, 0.3});
  EXPECT_DOUBLE_EQ(keep_threshold(v, 0.5),
                   torch::tensor(0.3f).item<double>());  // sorted[int(0.5*4)]
  EXPECT_DOUBLE_EQ(keep_threshold(v, 1.0), torch::tensor(-0.2f).item<double>());
  EXPECT_DOUBLE_EQ(keep_threshold(v, 0.01),
                   torch::tensor(0.5f).item<double>());  // at least one kept
  EXPECT_DOUBLE_EQ(keep_threshold(v, 0.7), torch::tensor(0.1f).item<double>());  // int(0.3*4) = 1
  EXPECT_THROW(keep_threshold(v, 0.0), Error);
  EXPECT_THROW(keep_threshold(v, 1.5), Error);
}

TEST(Ranking, StructureKeepsEntriesAboveTheGlobalThresholds) {
  const ViTConfig config = small_config();
  SlimMasks m = make_slim_masks(config, false);
  // attention: 24 entries; 13 at 0.9 (kept by a 50% budget), the rest at 0.1 and below.
  m.attn.fill_(0.1);
  m.attn[0][0].fill_(0.9);                                   // block 0 head 0: all four dims kept
  m.attn[0][1][2] = 0.9;                                     // block 0 head 1: dim 2 only
  m.attn[2][1].copy_(torch::tensor({0.9, 0.9, 0.9, -0.5}));  // block 2: head 1 dims 0-2
  m.attn[1][0].fill_(0.9);                                   // block 1 head 0
  m.attn[1][1][3] = 0.9;
  // MLP: 12 entries; block 1 keeps nothing, block 2 neuron 3 only.
  m.mlp = torch::tensor({{1.0, 0.8, 0.7, 0.6}, {0.0, 0.0, 0.0, 0.0}, {0.0, 0.0, 0.0, 0.95}});
  const Structure s = structure_from_fractions(config, m, {0.5, 0.4});  // MLP: sorted[int(0.6*12)]
  ASSERT_EQ(s.blocks.size(), 3u);
  ASSERT_EQ(s.blocks[0].heads.size(), 2u);
  EXPECT_EQ(s.blocks[0].heads[0].qk, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(s.blocks[0].heads[1].source, 1);
  EXPECT_EQ(s.blocks[0].heads[1].qk, (std::vector<int>{2}));
  EXPECT_EQ(s.blocks[0].heads[1].v, s.blocks[0].heads[1].qk);  // shared mask: same dims
  EXPECT_EQ(s.blocks[0].mlp, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_TRUE(s.blocks[1].mlp.empty());  // MLP removed, attention kept
  EXPECT_FALSE(s.blocks[1].attn_skip);
  ASSERT_EQ(s.blocks[2].heads.size(), 1u);  // head 0 of block 2 removed
  EXPECT_EQ(s.blocks[2].heads[0].source, 1);
  EXPECT_EQ(s.blocks[2].heads[0].qk, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(s.blocks[2].mlp, (std::vector<int>{3}));
}

TEST(Ranking, EmptyAttentionIsSkippedAndEmptyBlocksVanish) {
  const ViTConfig config = small_config();
  SlimMasks m = make_slim_masks(config, false);
  m.attn.fill_(-1.0);
  m.attn[0].fill_(1.0);  // only block 0 keeps attention: 8 of 24 entries, sorted[int(0.7*24)]
  m.mlp.fill_(-1.0);
  m.mlp[1].fill_(1.0);  // only block 1 keeps its MLP (4 of 12)
  const Structure s = structure_from_fractions(config, m, {0.3, 0.3});
  EXPECT_FALSE(s.blocks[0].skip);
  EXPECT_TRUE(s.blocks[0].mlp.empty());
  EXPECT_TRUE(s.blocks[1].attn_skip);
  EXPECT_EQ(s.blocks[1].mlp.size(), 4u);
  EXPECT_TRUE(s.blocks[2].skip);
  const ViTConfig compact = compact_config(config, s);
  EXPECT_TRUE(compact.blocks[2].skip);
  EXPECT_LT(compute_complexity(compact).macs(), compute_complexity(config).macs());
}

TEST(Ranking, TokensOnceRemovedStayRemoved) {
  const ViTConfig config = small_config();  // 4 patches, 3 blocks
  SlimMasks m = make_slim_masks(config, true);
  // Raw values; applied masks are tanh(z)/tanh(3), monotone in z.
  m.tokens = torch::tensor({{3.0, 3.0, -1.0, 3.0}, {3.0, -1.0, 3.0, 3.0}, {-1.0, 3.0, 3.0, 3.0}});
  const auto kept = kept_tokens(m, 0.75);  // threshold: the 3 entries at -1 are pruned
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[0], (std::vector<int>{0, 1, 3}));
  EXPECT_EQ(kept[1],
            (std::vector<int>{0, 3}));  // token 2 stays removed (the reference would keep it)
  EXPECT_EQ(kept[2], (std::vector<int>{3}));
  EXPECT_THROW(kept_tokens(make_slim_masks(config, false), 0.5), Error);

  // In a Structure: listed where a block drops tokens, counted by the MACs.
  const Structure s = structure_from_fractions(config, m, {1.0, 1.0, 0.75});
  EXPECT_EQ(s.blocks[0].tokens, kept[0]);
  EXPECT_EQ(s.blocks[1].tokens, kept[1]);
  EXPECT_EQ(s.blocks[2].tokens, kept[2]);
  const nlohmann::json summary = token_summary(config, s);
  EXPECT_EQ(summary["per_block"], nlohmann::json({3, 2, 1}));
  EXPECT_NEAR(summary["kept_fraction"].get<double>(), 6.0 / 12.0, 1e-12);
  const ViTConfig compact = compact_config(config, s);
  EXPECT_EQ(compact.block_tokens(2), 2);  // patch 3 and the cls token
  EXPECT_LT(compute_complexity(compact).macs(), compute_complexity(config).macs());
  // A block whose kept set does not shrink lists nothing.
  EXPECT_TRUE(structure_from_fractions(config, m, {1.0, 1.0, 1.0}).blocks[0].tokens.empty());
}

TEST(Ranking, EveryBlockKeepsAPatchToken) {
  const ViTConfig config = small_config();
  SlimMasks m = make_slim_masks(config, true);
  // Threshold: sorted[int(0.5 * 12)] = 3. Block 2's masks are all below it: of the patches still
  // alive (0, 1, 3), the highest (patch 1 at -1.5; patch 2 at -1.0 was dropped) stays.
  m.tokens = torch::tensor({{3.0, 3.0, 3.0, 3.0}, {3.0, 3.0, -3.0, 3.0}, {-2.0, -1.5, -1.0, -1.8}});
  const auto kept = kept_tokens(m, 0.5);
  EXPECT_EQ(kept[1], (std::vector<int>{0, 1, 3}));
  EXPECT_EQ(kept[2], (std::vector<int>{1}));
}

}  // namespace
}  // namespace vitc
