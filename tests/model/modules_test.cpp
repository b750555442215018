// Shapes, gradients and reference computations for the ViT modules.
#include <cmath>

#include <algorithm>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/vit.h"
#include "util/error.h"

namespace vitc {
namespace {

// softmax(q k^T * scale) v for one head, written out with explicit weight slices.
at::Tensor reference_attention(AttentionImpl& attn, const at::Tensor& x) {
  const auto& heads = attn.heads();
  int qk_total = 0, v_total = 0;
  for (const auto& h : heads) {
    qk_total += h.qk_dim;
    v_total += h.v_dim;
  }
  const at::Tensor W = attn.qkv->weight, b = attn.qkv->bias;
  std::vector<at::Tensor> outs;
  int q_off = 0, v_off = 0;
  for (const auto& h : heads) {
    auto rows = [&](int start, int len) {
      return torch::addmm(b.narrow(0, start, len), x.reshape({-1, x.size(-1)}),
                          W.narrow(0, start, len).t())
          .reshape({x.size(0), x.size(1), len});
    };
    const at::Tensor q = rows(q_off, h.qk_dim);
    const at::Tensor k = rows(qk_total + q_off, h.qk_dim);
    const at::Tensor v = rows(2 * qk_total + v_off, h.v_dim);
    at::Tensor scores = torch::bmm(q, k.transpose(1, 2)) * attn.scale();
    outs.push_back(torch::bmm(scores.softmax(-1), v));
    q_off += h.qk_dim;
    v_off += h.v_dim;
  }
  return attn.proj->forward(torch::cat(outs, -1));
}

TEST(Attention, DenseMatchesReference) {
  torch::manual_seed(0);
  Attention attn(32, std::vector<HeadSpec>(4, HeadSpec{8, 8}), 1.0 / std::sqrt(8.0), true);
  const at::Tensor x = torch::randn({3, 5, 32});
  const at::Tensor y = attn->forward(x);
  EXPECT_EQ(y.sizes(), x.sizes());
  EXPECT_TRUE(torch::allclose(y, reference_attention(*attn, x), 1e-5, 1e-6));
}

TEST(Attention, MatchesTimmLayoutForEqualHeads) {
  // timm: qkv(x).reshape(B, N, 3, H, d).permute(2, 0, 3, 1, 4); scale d^-0.5.
  torch::manual_seed(1);
  const int B = 2, N = 7, D = 24, H = 3, d = 8;
  Attention attn(D, std::vector<HeadSpec>(H, HeadSpec{d, d}), 1.0 / std::sqrt(8.0), true);
  const at::Tensor x = torch::randn({B, N, D});
  const at::Tensor qkv = attn->qkv->forward(x).reshape({B, N, 3, H, d}).permute({2, 0, 3, 1, 4});
  const at::Tensor a = (torch::matmul(qkv[0], qkv[1].transpose(-2, -1)) / std::sqrt(8.0)).softmax(-1);
  const at::Tensor timm = attn->proj->forward(torch::matmul(a, qkv[2]).transpose(1, 2).reshape({B, N, D}));
  EXPECT_TRUE(torch::allclose(attn->forward(x), timm, 1e-5, 1e-6));
}

TEST(Attention, UnevenHeadsMatchReference) {
  torch::manual_seed(2);
  const std::vector<HeadSpec> heads = {{8, 4}, {8, 4}, {3, 8}, {5, 1}, {5, 1}};
  Attention attn(16, heads, 0.3, true);
  EXPECT_EQ(attn->qkv->weight.size(0), 2 * (8 + 8 + 3 + 5 + 5) + (4 + 4 + 8 + 1 + 1));
  EXPECT_EQ(attn->proj->weight.size(1), 18);
  const at::Tensor x = torch::randn({2, 6, 16});
  EXPECT_TRUE(torch::allclose(attn->forward(x), reference_attention(*attn, x), 1e-5, 1e-6));
}

TEST(Attention, ZeroHeadMaskEqualsRemovingTheHead) {
  torch::manual_seed(3);
  Attention attn(16, std::vector<HeadSpec>(2, HeadSpec{8, 8}), 0.25, true);
  const at::Tensor x = torch::randn({2, 4, 16});
  BlockMasks masks;
  masks.heads = torch::tensor({1.0f, 0.0f});
  // Head 0 alone: proj applied to head 0's output with head 1's proj columns dropped.
  Attention single(16, std::vector<HeadSpec>(1, HeadSpec{8, 8}), 0.25, true);
  {
    torch::NoGradGuard g;
    const at::Tensor W = attn->qkv->weight, b = attn->qkv->bias;
    single->qkv->weight.copy_(torch::cat({W.narrow(0, 0, 8), W.narrow(0, 16, 8), W.narrow(0, 32, 8)}));
    single->qkv->bias.copy_(torch::cat({b.narrow(0, 0, 8), b.narrow(0, 16, 8), b.narrow(0, 32, 8)}));
    single->proj->weight.copy_(attn->proj->weight.narrow(1, 0, 8));
    single->proj->bias.copy_(attn->proj->bias);
  }
  EXPECT_TRUE(torch::allclose(attn->forward(x, &masks), single->forward(x), 1e-5, 1e-6));
}

TEST(Block, ResidualStructure) {
  torch::manual_seed(4);
  BlockSpec spec;
  spec.heads = std::vector<HeadSpec>(2, HeadSpec{8, 8});
  spec.mlp_hidden = 32;
  spec.attn_scale = 0.25;
  Block block(16, spec, 1e-6, true, false);
  const at::Tensor x = torch::randn({2, 5, 16});
  const at::Tensor y1 = x + block->attn->forward(block->norm1->forward(x));
  const at::Tensor expected = y1 + block->mlp->forward(block->norm2->forward(y1));
  EXPECT_TRUE(torch::allclose(block->forward(x), expected, 1e-5, 1e-6));
  // A gate of 0 is the identity, a gate of 1 the block.
  BlockMasks masks;
  masks.gate = torch::tensor(0.0f);
  EXPECT_TRUE(torch::equal(block->forward(x, &masks), x));
  masks.gate = torch::tensor(1.0f);
  EXPECT_TRUE(torch::allclose(block->forward(x, &masks), expected, 1e-5, 1e-6));
}

TEST(Block, LayerScaleMultipliesEachBranchBeforeTheResidual) {
  torch::manual_seed(5);
  BlockSpec spec;
  spec.heads = std::vector<HeadSpec>(2, HeadSpec{8, 8});
  spec.mlp_hidden = 32;
  spec.attn_scale = 0.25;
  Block block(16, spec, 1e-6, true, /*layer_scale=*/true);
  {
    torch::NoGradGuard no_grad;
    block->ls1->gamma.normal_();
    block->ls2->gamma.normal_();
  }
  const at::Tensor x = torch::randn({2, 5, 16});
  const at::Tensor y1 = x + block->attn->forward(block->norm1->forward(x)) * block->ls1->gamma;
  const at::Tensor expected =
      y1 + block->mlp->forward(block->norm2->forward(y1)) * block->ls2->gamma;
  EXPECT_TRUE(torch::allclose(block->forward(x), expected, 1e-5, 1e-6));
  std::vector<std::string> names;
  for (const auto& p : block->named_parameters()) names.push_back(p.key());
  EXPECT_NE(std::find(names.begin(), names.end(), "ls1.gamma"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "ls2.gamma"), names.end());
}

TEST(Block, SkippedPartsOwnNoParameters) {
  BlockSpec skipped;
  skipped.skip = true;
  Block a(16, skipped, 1e-6, true, true);
  EXPECT_EQ(a->parameters().size(), 0u);
  const at::Tensor x = torch::randn({1, 3, 16});
  EXPECT_TRUE(torch::equal(a->forward(x), x));

  BlockSpec mlp_only;
  mlp_only.attn_skip = true;
  mlp_only.mlp_hidden = 8;
  Block b(16, mlp_only, 1e-6, true, false);
  for (const auto& p : b->named_parameters()) {
    EXPECT_TRUE(p.key().rfind("norm2", 0) == 0 || p.key().rfind("mlp", 0) == 0) << p.key();
  }
  EXPECT_TRUE(torch::allclose(b->forward(x), x + b->mlp->forward(b->norm2->forward(x)), 1e-5, 1e-6));
}

TEST(VisionTransformer, ShapesAndKeyNames) {
  ViTConfig config = make_uniform_config("t", 28, 7, 1, 10, 32, 2, 4, 2.0, true);
  VisionTransformer model = make_model(config, 0);
  const at::Tensor images = torch::randn({3, 1, 28, 28});
  EXPECT_EQ(model->forward(images).sizes(), (std::vector<int64_t>{3, 10}));
  EXPECT_EQ(model->forward_features(images).sizes(), (std::vector<int64_t>{3, 18, 32}));
  const HeadOutputs heads = model->forward_heads(images);
  EXPECT_TRUE(torch::allclose(model->forward(images), (heads.cls + heads.dist) / 2));
  std::set<std::string> names;
  for (const auto& p : model->named_parameters()) names.insert(p.key());
  for (const char* key : {"cls_token", "dist_token", "pos_embed", "patch_embed.proj.weight",
                          "blocks.1.norm1.weight", "blocks.1.attn.qkv.weight", "blocks.1.attn.proj.bias",
                          "blocks.0.norm2.bias", "blocks.0.mlp.fc1.weight", "blocks.0.mlp.fc2.weight",
                          "norm.weight", "head.weight", "head_dist.bias"}) {
    EXPECT_EQ(names.count(key), 1u) << key;
  }
}

TEST(VisionTransformer, WrongInputShapeIsAClearError) {
  VisionTransformer model = make_model(make_uniform_config("t", 28, 7, 1, 10, 32, 1, 4, 2.0, false), 0);
  try {
    model->forward(torch::randn({2, 3, 28, 28}));
    FAIL() << "expected vitc::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[B, 1, 28, 28]"), std::string::npos) << e.what();
  }
}

TEST(VisionTransformer, SeededInitIsReproducible) {
  const ViTConfig config = named_config("fm_tiny");
  VisionTransformer a = make_model(config, 7), b = make_model(config, 7), c = make_model(config, 8);
  const at::Tensor x = torch::randn({2, 1, 28, 28});
  EXPECT_TRUE(torch::equal(a->forward(x), b->forward(x)));
  EXPECT_FALSE(torch::equal(a->forward(x), c->forward(x)));
  // Truncated normal: no Linear weight beyond 2 std.
  EXPECT_LE(a->blocks[0]->as<BlockImpl>()->attn->qkv->weight.abs().max().item<double>(), 0.04 + 1e-7);
}

TEST(VisionTransformer, GradientsMatchFiniteDifferences) {
  torch::manual_seed(5);
  ViTConfig config = make_uniform_config("t", 8, 4, 1, 3, 8, 2, 2, 2.0, false);
  config.blocks[1].heads = {{3, 5}, {4, 2}};
  VisionTransformer model = make_model(config, 1);
  model->to(torch::kFloat64);
  const at::Tensor x = torch::randn({2, 1, 8, 8}, torch::kFloat64);
  const at::Tensor target = torch::tensor({0, 2});
  auto loss_fn = [&] { return torch::cross_entropy_loss(model->forward(x), target); };
  model->zero_grad();
  loss_fn().backward();
  int checked = 0;
  for (auto& p : model->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    at::Tensor flat = p.value().detach().view(-1);
    const at::Tensor grad = p.value().grad().view(-1);
    for (int64_t i = 0; i < flat.numel(); i += std::max<int64_t>(1, flat.numel() / 3)) {
      const double eps = 1e-6, orig = flat[i].item<double>();
      double plus, minus;
      {
        torch::NoGradGuard g;
        flat[i] = orig + eps;
        plus = loss_fn().item<double>();
        flat[i] = orig - eps;
        minus = loss_fn().item<double>();
        flat[i] = orig;
      }
      EXPECT_NEAR(grad[i].item<double>(), (plus - minus) / (2 * eps), 1e-6) << p.key() << "[" << i << "]";
      ++checked;
    }
  }
  EXPECT_GT(checked, 40);
}

}  // namespace
}  // namespace vitc
