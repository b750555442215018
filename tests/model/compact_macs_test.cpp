// MACs of a Structure against an independent count: a forward pass written here, op by op, with
// the compact model's weights, that adds up m*n*k of every matmul it performs from the runtime
// tensor shapes. Its logits must equal the compact model's, so it counts what the model computes.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/complexity.h"
#include "model/slice.h"
#include "model/counting_forward.h"
#include "model/slice_test_util.h"

namespace vitc {
namespace {

// Hand-made structures on fm_tiny (4 blocks, 4 heads of 16, mlp 128, 17 tokens), on a
// distilled variant (18 tokens) and on a DeiT III variant (LayerScale, 16 position rows).
std::vector<std::pair<ViTConfig, Structure>> hand_made() {
  std::vector<std::pair<ViTConfig, Structure>> cases;
  const ViTConfig tiny = named_config("fm_tiny");
  cases.push_back({tiny, dense_structure(tiny)});

  Structure uneven = dense_structure(tiny);
  uneven.blocks[0].heads = {{1, {0, 1, 2}, {4, 5, 6, 7, 8}}, {3, {9, 10, 11, 12, 13, 14, 15}, {0}}};
  uneven.blocks[0].mlp = {1, 2, 3, 50, 60};
  uneven.blocks[1] = BlockKeep{true, false, {}, {}, {}};
  uneven.blocks[2].attn_skip = true;
  uneven.blocks[2].heads.clear();
  uneven.blocks[3].mlp.clear();
  cases.push_back({tiny, uneven});

  const ViTConfig distilled = test::contract_sources()[1];
  Structure single = dense_structure(distilled);
  for (int i = 0; i < distilled.depth(); ++i) {
    single.blocks[i].heads = {{i, {0, 1, 2, 3, 4, 5, 6, 7}, {15, 14}}};
    single.blocks[i].mlp.resize(32);
  }
  cases.push_back({distilled, single});

  // Token pruning: 10 of 16 patches from block 1 on, a drop before the skipped block 2, 4 from
  // block 3 on; on the distilled model, 5 patches from block 0 on.
  Structure tokens = dense_structure(tiny);
  tokens.blocks[1].tokens = {0, 2, 3, 5, 7, 8, 9, 11, 12, 15};
  tokens.blocks[1].mlp = {4, 5, 6};
  tokens.blocks[2] = BlockKeep{true, false, {}, {}, {2, 3, 5, 9, 11, 15}};
  tokens.blocks[3].tokens = {2, 5, 9, 15};
  cases.push_back({tiny, tokens});
  Structure distilled_tokens = dense_structure(distilled);
  distilled_tokens.blocks[0].tokens = {1, 4, 6, 10, 13};
  cases.push_back({distilled, distilled_tokens});

  // DeiT III (LayerScale, no class position embedding) with uneven heads, an attention skip, a
  // skipped block and dropped tokens.
  const ViTConfig deit3 = test::contract_sources()[3];
  Structure deit3_cut = dense_structure(deit3);
  deit3_cut.blocks[0].heads = {{2, {0, 5, 9}, {1, 2, 3, 4}}};
  deit3_cut.blocks[1].attn_skip = true;
  deit3_cut.blocks[1].heads.clear();
  deit3_cut.blocks[2] = BlockKeep{true, false, {}, {}, {}};
  deit3_cut.blocks[3].tokens = {0, 3, 7, 12};
  deit3_cut.blocks[3].mlp = {0, 9, 31};
  cases.push_back({deit3, deit3_cut});
  return cases;
}

TEST(CompactMacs, AnalyticCountEqualsExecutedMultiplyAdds) {
  int index = 0;
  for (const auto& [source_config, structure] : hand_made()) {
    SCOPED_TRACE("case " + std::to_string(index++));
    VisionTransformer source = make_model(source_config, 1);
    test::randomize_parameters(*source, 2);
    VisionTransformer compact = slice_model(*source, structure);
    const int64_t B = 2;
    const at::Tensor images = torch::randn({B, 1, 28, 28});
    torch::NoGradGuard no_grad;
    test::CountingForward counter;
    const at::Tensor logits = counter.forward(*compact, images);
    EXPECT_TRUE(torch::allclose(logits, compact->forward(images), 1e-5, 1e-5));
    ASSERT_EQ(counter.macs % B, 0);
    const Complexity analytic = compute_complexity(compact->config());
    EXPECT_EQ(analytic.macs(), counter.macs / B);
    int64_t params = 0;
    for (const auto& p : compact->parameters()) params += p.numel();
    EXPECT_EQ(analytic.params(), params);
  }
}

TEST(CompactMacs, UnevenStructureCountsByHand) {
  // Case 1 of hand_made, block 0: qk 3+7 = 10, v 5+1 = 6, N = 17, D = 64, mlp 5.
  const auto cases = hand_made();
  const Complexity c = compute_complexity(compact_config(cases[1].first, cases[1].second));
  const int64_t N = 17, D = 64;
  EXPECT_EQ(c.blocks[0].attn_macs, N * D * (2 * 10 + 6) + N * N * 10 + N * N * 6 + N * 6 * D);
  EXPECT_EQ(c.blocks[0].mlp_macs, 2 * N * D * 5);
  EXPECT_EQ(c.blocks[1].macs(), 0);
  EXPECT_EQ(c.blocks[2].attn_macs, 0);
  EXPECT_EQ(c.blocks[2].mlp_macs, 2 * N * D * 128);
  EXPECT_EQ(c.blocks[3].mlp_macs, 0);
  EXPECT_EQ(c.embed_macs, 16 * 49 * D);
  EXPECT_EQ(c.head_macs, D * 10);
}

TEST(CompactMacs, DroppedTokensCountByHand) {
  // Case 3 of hand_made: blocks process 17, 11, 7 (skipped) and 5 tokens.
  const auto cases = hand_made();
  const ViTConfig compact = compact_config(cases[3].first, cases[3].second);
  const Complexity c = compute_complexity(compact);
  const int64_t D = 64, qk = 64, mlp = 128;
  const auto attn = [&](int64_t N) { return N * D * 3 * qk + 2 * N * N * qk + N * qk * D; };
  EXPECT_EQ(c.blocks[0].macs(), attn(17) + 2 * 17 * D * mlp);
  EXPECT_EQ(c.blocks[1].macs(), attn(11) + 2 * 11 * D * 3);
  EXPECT_EQ(c.blocks[2].macs(), 0);
  EXPECT_EQ(c.blocks[3].macs(), attn(5) + 2 * 5 * D * mlp);
  EXPECT_EQ(compact.block_tokens(2), 7);
  EXPECT_EQ(c.embed_macs, 16 * 49 * D);  // every patch is embedded before any drop
}

}  // namespace
}  // namespace vitc
