// MACs of a Structure against an independent count: a forward pass written here, op by op, with
// the compact model's weights, that adds up m*n*k of every matmul it performs from the runtime
// tensor shapes. Its logits must equal the compact model's, so it counts what the model computes.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/complexity.h"
#include "model/slice.h"
#include "model/slice_test_util.h"

namespace vitc {
namespace {

// Every multiply-add goes through mm(), which counts batch * m * k * n from the operands.
struct CountingForward {
  int64_t macs = 0;

  // a [..., m, k] @ b [k, n] or a [B, m, k] @ b [B, k, n].
  at::Tensor mm(const at::Tensor& a, const at::Tensor& b) {
    EXPECT_EQ(a.size(-1), b.size(-2));
    EXPECT_TRUE(b.dim() == 2 || b.dim() == a.dim());
    macs += a.numel() * b.size(-1);
    return torch::matmul(a, b);
  }

  at::Tensor linear(const at::Tensor& x, const torch::nn::Linear& l) {
    return mm(x, l->weight.t()) + l->bias;
  }

  static at::Tensor norm(const at::Tensor& x, const torch::nn::LayerNorm& n) {
    return torch::layer_norm(x, {x.size(-1)}, n->weight, n->bias, n->options.eps());
  }

  // Heads one at a time (not grouped as the model does), sliced out of the qkv output.
  at::Tensor attention(const at::Tensor& x, AttentionImpl& attn) {
    const at::Tensor qkv = linear(x, attn.qkv);
    int64_t qk_total = 0;
    for (const HeadSpec& h : attn.heads()) qk_total += h.qk_dim;
    std::vector<at::Tensor> outs;
    int64_t q_off = 0, v_off = 0;
    for (const HeadSpec& h : attn.heads()) {
      const at::Tensor q = qkv.narrow(-1, q_off, h.qk_dim);
      const at::Tensor k = qkv.narrow(-1, qk_total + q_off, h.qk_dim);
      const at::Tensor v = qkv.narrow(-1, 2 * qk_total + v_off, h.v_dim);
      const at::Tensor scores = (mm(q, k.transpose(1, 2)) * attn.scale()).softmax(-1);
      outs.push_back(mm(scores, v));
      q_off += h.qk_dim;
      v_off += h.v_dim;
    }
    return linear(torch::cat(outs, -1), attn.proj);
  }

  at::Tensor block(const at::Tensor& x, BlockImpl& b) {
    at::Tensor y = x;
    if (b.attn) y = y + attention(norm(y, b.norm1), *b.attn);
    if (b.mlp) y = y + linear(torch::gelu(linear(norm(y, b.norm2), b.mlp->fc1)), b.mlp->fc2);
    return y;
  }

  at::Tensor forward(VisionTransformerImpl& m, const at::Tensor& images) {
    const ViTConfig& c = m.config();
    const int64_t B = images.size(0), p = c.patch_size, side = c.img_size / p;
    // Patch embedding as a matmul of flattened patches: [B, P, C*p*p] @ [C*p*p, D].
    const at::Tensor patches = images.reshape({B, c.in_chans, side, p, side, p})
                                   .permute({0, 2, 4, 1, 3, 5})
                                   .reshape({B, side * side, c.in_chans * p * p});
    const auto& conv = m.patch_embed->proj;
    at::Tensor x = mm(patches, conv->weight.reshape({c.embed_dim, -1}).t()) + conv->bias;
    std::vector<at::Tensor> tokens = {m.cls_token.expand({B, 1, c.embed_dim})};
    if (c.distilled) tokens.push_back(m.dist_token.expand({B, 1, c.embed_dim}));
    tokens.push_back(x);
    x = torch::cat(tokens, 1) + m.pos_embed;
    for (int i = 0; i < c.depth(); ++i) {
      if (!c.blocks[i].skip) x = block(x, *m.block(i));
    }
    x = norm(x, m.norm);
    at::Tensor logits = linear(x.select(1, 0), m.head);
    if (c.distilled) logits = (logits + linear(x.select(1, 1), m.head_dist)) / 2;
    return logits;
  }
};

// Hand-made structures on fm_tiny (4 blocks, 4 heads of 16, mlp 128, 17 tokens) and on a
// distilled variant (18 tokens).
std::vector<std::pair<ViTConfig, Structure>> hand_made() {
  std::vector<std::pair<ViTConfig, Structure>> cases;
  const ViTConfig tiny = named_config("fm_tiny");
  cases.push_back({tiny, dense_structure(tiny)});

  Structure uneven = dense_structure(tiny);
  uneven.blocks[0].heads = {{1, {0, 1, 2}, {4, 5, 6, 7, 8}}, {3, {9, 10, 11, 12, 13, 14, 15}, {0}}};
  uneven.blocks[0].mlp = {1, 2, 3, 50, 60};
  uneven.blocks[1] = BlockKeep{true, false, {}, {}};
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
    CountingForward counter;
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

}  // namespace
}  // namespace vitc
