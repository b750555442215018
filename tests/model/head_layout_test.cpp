// Padded head compute (head_layout.h): heads of many widths padded to the widest compute what the
// grouped compute does, forward and backward; the padded weights follow the parameters when they
// change; the rule and the executed MACs are checked by hand.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/complexity.h"
#include "model/head_layout.h"
#include "model/slice.h"
#include "model/slice_test_util.h"
#include "model/structure_masks.h"

namespace vitc {
namespace {

double max_diff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

// fm_tiny (4 heads of 16) with block 0's heads at four different widths and block 1's at two.
Structure uneven(const ViTConfig& config) {
  Structure s = dense_structure(config);
  s.blocks[0].heads[0].qk = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  s.blocks[0].heads[1].v = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
  s.blocks[0].heads[2].qk = {3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  s.blocks[0].heads[2].v = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  s.blocks[1].heads[3].v = {0, 1, 2, 3, 4, 5, 6, 7};
  return s;
}

TEST(HeadLayout, RuleAndExecutedMacsByHand) {
  // Four widths (12/16, 16/14, 13/15, 16/16), D = 64: 4 groups; padding to 16/16 adds
  // 7 q/k and 3 v dims: per token 64 x (2 x 7 + 3) + 3 x 64 = 1280, per token pair 10.
  const std::vector<HeadSpec> four = {{12, 16}, {16, 14}, {13, 15}, {16, 16}};
  const HeadLayout l = head_layout(four, 64);
  EXPECT_EQ(l.groups, 4);
  EXPECT_EQ(l.qk_width, 16);
  EXPECT_EQ(l.v_width, 16);
  EXPECT_EQ(l.padded_extra_per_token, 1280);
  EXPECT_EQ(l.padded_extra_per_token_pair, 10);
  // 17 tokens: 17 x (1280 + 17 x 10) = 24,650 extra MACs per image, against 3 saved groups.
  EXPECT_TRUE(pad_heads(l, 1, 17));
  EXPECT_TRUE(pad_heads(l, 256, 17));    // 6.3 M < 9 M
  EXPECT_FALSE(pad_heads(l, 512, 17));   // 12.6 M > 9 M
  const int64_t N = 17, D = 64;
  const int64_t useful = N * D * (2 * 57 + 61) + N * N * (57 + 61) + N * 61 * D;
  EXPECT_EQ(executed_attention_macs(four, D, 1, N), useful + N * 1280 + N * N * 10);
  // Swin-like: 4 windows of 17 tokens attend within themselves (each window decides as a batch).
  const int64_t windowed = 4 * (N * D * (2 * 57 + 61) + N * N * (57 + 61) + N * 61 * D);
  EXPECT_EQ(executed_attention_macs(four, D, 4, N), windowed + 4 * (N * 1280 + N * N * 10));
  // One group (dense) never pads; executed = useful.
  const std::vector<HeadSpec> dense(4, HeadSpec{16, 16});
  EXPECT_FALSE(pad_heads(head_layout(dense, 64), 1, 17));
  // deit_small-sized heads at 197 tokens: the zero dims cost more than the groups saved.
  const std::vector<HeadSpec> wide = {{64, 8}, {64, 64}, {64, 30}, {64, 50}, {64, 12}, {64, 64}};
  EXPECT_FALSE(pad_heads(head_layout(wide, 384), 1, 197));
  const ViTConfig compact = compact_config(named_config("fm_tiny"), uneven(named_config("fm_tiny")));
  const Complexity c = compute_complexity(compact);
  EXPECT_GT(c.blocks[0].attn_executed_macs, c.blocks[0].attn_macs);
  EXPECT_EQ(c.blocks[1].attn_executed_macs, c.blocks[1].attn_macs + 17 * (8 * 64 + 8 * 64) + 17 * 17 * 8);
  EXPECT_EQ(c.blocks[2].attn_executed_macs, c.blocks[2].attn_macs);
}

TEST(HeadLayout, PaddedComputeEqualsGroupedForwardAndBackward) {
  const ViTConfig config = named_config("fm_tiny");
  VisionTransformer source = make_model(config, 1);
  test::randomize_parameters(*source, 2);
  const Structure s = uneven(config);
  VisionTransformer compact = slice_model(*source, s);
  AttentionImpl& attn = *compact->block(0)->attn;
  ASSERT_TRUE(attn.padded());  // 3 images of 17 tokens: pad_heads pays off
  EXPECT_FALSE(compact->block(2)->attn->padded());  // dense: one group
  const at::Tensor images = torch::randn({3, 1, 28, 28});

  compact->eval();
  {
    torch::NoGradGuard no_grad;
    const at::Tensor padded = compact->forward(images);
    const ModelMasks masks = structure_masks(config, s);
    EXPECT_LT(max_diff(padded, source->forward(images, &masks)), 1e-5);
    attn.set_padded(false);
    EXPECT_LT(max_diff(padded, compact->forward(images)), 1e-5);
    attn.set_padded(true);
    // The cached padded weights follow a change of the parameters.
    compact->block(0)->attn->qkv->weight.mul_(0.5);
    compact->block(0)->attn->proj->bias.add_(0.1);
    const at::Tensor changed = compact->forward(images);
    attn.set_padded(false);
    EXPECT_LT(max_diff(changed, compact->forward(images)), 1e-5);
    EXPECT_GT(max_diff(changed, padded), 1e-3);
    attn.set_padded(true);
  }

  // Training: the same gradients reach the real parameters either way.
  compact->train();
  std::vector<at::Tensor> grads[2];
  for (int padded = 0; padded < 2; ++padded) {
    attn.set_padded(padded == 1);
    compact->zero_grad();
    compact->forward(images).pow(2).sum().backward();
    for (const auto& p : compact->block(0)->parameters()) grads[padded].push_back(p.grad().clone());
  }
  ASSERT_EQ(grads[0].size(), grads[1].size());
  for (size_t i = 0; i < grads[0].size(); ++i) {
    EXPECT_LT(max_diff(grads[0][i], grads[1][i]), 1e-4 * (1 + grads[0][i].abs().max().item<double>())) << i;
  }
}

}  // namespace
}  // namespace vitc
