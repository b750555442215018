// ViT-Slim masks: fresh masks are the identity, the view writes nothing, the L1 term's closed
// form, and the masks file round trip with its errors.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "compress/slim/ranking.h"
#include "compress/slim/slim_masks.h"
#include "model/slice_test_util.h"
#include "model/structure.h"
#include "test_support.h"
#include "slim_test_util.h"
#include "util/error.h"

namespace vitc {
namespace {

TEST(SlimMasks, FreshMasksReproduceTheTeacherExactly) {
  for (bool distilled : {false, true}) {
    for (bool tokens : {false, true}) {
      VisionTransformer model = test::random_tiny_model(3, distilled);
      const at::Tensor images = test::random_images(model->config(), 5, 4);
      const SlimMasks masks = make_slim_masks(model->config(), tokens);
      const ModelMasks view = slim_model_masks(masks, model->config());
      EXPECT_TRUE(torch::equal(model->forward(images, &view), model->forward(images)))
          << "distilled " << distilled << " tokens " << tokens;
    }
  }
}

TEST(SlimMasks, ShapesFollowTheConfig) {
  const ViTConfig config = make_uniform_config("t", 28, 4, 1, 10, 48, 3, 6, 3.0, true);
  const SlimMasks m = make_slim_masks(config, true);
  EXPECT_EQ(m.attn.sizes(), at::IntArrayRef({3, 6, 8}));
  EXPECT_EQ(m.mlp.sizes(), at::IntArrayRef({3, 144}));
  EXPECT_EQ(m.tokens.sizes(), at::IntArrayRef({3, 49}));  // patches only: cls/dist never masked
  const ModelMasks view = slim_model_masks(m, config);
  ASSERT_EQ(view.blocks.size(), 3u);
  EXPECT_EQ(view.blocks[0].tokens.size(0), 51);
  EXPECT_EQ(view.blocks[0].qk.size(0), 48);
  EXPECT_FALSE(make_slim_masks(config, false).has_tokens());
}

// Swin: blocks of two sizes (2 heads / MLP 32 at width 16, 4 heads / MLP 64 at width 32). The
// masks take the largest sizes; the entries a block lacks are 0, never applied and never ranked.
TEST(SlimMasks, BlocksOfDifferentSizesShareOnePaddedTensor) {
  const ViTConfig swin = test::contract_sources().back();
  ASSERT_TRUE(swin.is_swin());
  const SlimMasks m = make_slim_masks(swin, false);
  EXPECT_EQ(m.attn.sizes(), at::IntArrayRef({4, 4, 8}));
  EXPECT_EQ(m.mlp.sizes(), at::IntArrayRef({4, 64}));
  EXPECT_EQ(m.attn.sum().item<double>(), 2 * 16 + 2 * 32);  // the entries the blocks have
  EXPECT_EQ(m.mlp.sum().item<double>(), 2 * 32 + 2 * 64);
  VisionTransformer model = make_model(swin, 1);
  model->eval();
  const at::Tensor images = torch::randn({2, 1, 28, 28});
  const ModelMasks view = slim_model_masks(m, swin);
  EXPECT_EQ(view.blocks[0].qk.size(0), 16);
  EXPECT_EQ(view.blocks[3].mlp.size(0), 64);
  EXPECT_TRUE(torch::equal(model->forward(images, &view), model->forward(images)));
  // Ranking sees only real entries: keeping half keeps half of each type's real entries.
  SlimMasks ranked = m;
  ranked.attn = m.attn * torch::rand(m.attn.sizes());
  ranked.mlp = m.mlp * torch::rand(m.mlp.sizes());
  const Structure s = structure_from_fractions(swin, ranked, KeepFractions{0.5, 0.5, 1.0});
  int dims = 0, neurons = 0;
  for (const BlockKeep& b : s.blocks) {
    for (const HeadKeep& h : b.heads) dims += static_cast<int>(h.qk.size());
    neurons += static_cast<int>(b.mlp.size());
  }
  EXPECT_NEAR(dims, 48, 1);
  EXPECT_NEAR(neurons, 96, 1);
  EXPECT_NE(test_support::error_of([&] { make_slim_masks(swin, true); }).find("windows need every token"),
            std::string::npos);
}

TEST(SlimMasks, ViewWritesNothingAndPassesGradients) {
  VisionTransformer model = test::random_tiny_model(5);
  SlimMasks masks = test::random_masks(model->config(), 6, true);
  const SlimMasks before{masks.attn.clone(), masks.mlp.clone(), masks.tokens.clone()};
  const auto weights_before = model->block(0)->attn->qkv->weight.clone();
  for (at::Tensor* t : {&masks.attn, &masks.mlp, &masks.tokens}) t->set_requires_grad(true);
  const ModelMasks view = slim_model_masks(masks, model->config());
  const at::Tensor images = test::random_images(model->config(), 3, 7);
  (model->forward(images, &view).sum() + slim_sparsity_loss(masks, {})).backward();
  EXPECT_TRUE(torch::equal(masks.attn, before.attn));
  EXPECT_TRUE(torch::equal(masks.mlp, before.mlp));
  EXPECT_TRUE(torch::equal(masks.tokens, before.tokens));
  EXPECT_TRUE(torch::equal(model->block(0)->attn->qkv->weight, weights_before));
  for (at::Tensor* t : {&masks.attn, &masks.mlp, &masks.tokens}) {
    ASSERT_TRUE(t->grad().defined());
    EXPECT_GT(t->grad().abs().sum().item<double>(), 0.0);
  }
}

TEST(SlimMasks, AttentionMaskIsSharedByQueryKeyAndValue) {
  // Zeroing every dim of head h through the slim mask equals dropping the head's q, k and v.
  VisionTransformer model = test::random_tiny_model(8);
  SlimMasks masks = make_slim_masks(model->config(), false);
  masks.attn[1][2].zero_();
  const ModelMasks view = slim_model_masks(masks, model->config());
  ModelMasks manual;
  manual.blocks.resize(4);
  manual.blocks[1].qk = torch::ones({64});
  manual.blocks[1].qk.narrow(0, 32, 16).zero_();
  manual.blocks[1].v = manual.blocks[1].qk;
  const at::Tensor images = test::random_images(model->config(), 2, 9);
  EXPECT_TRUE(torch::equal(model->forward(images, &view), model->forward(images, &manual)));
}

TEST(SlimMasks, SparsityLossIsTheWeightedL1) {
  const ViTConfig config = make_uniform_config("t", 28, 14, 1, 10, 8, 2, 2, 1.0, false);
  SlimMasks m = make_slim_masks(config, true);  // attn [2,2,4], mlp [2,8], tokens [2,4]
  m.attn.fill_(-0.5);
  m.mlp.fill_(2.0);
  m.tokens.fill_(kTokenMaskInit);
  const SparsityWeights w{0.1, 0.01, 1.0};
  const double expected = 0.1 * 16 * 0.5 + 0.01 * 16 * 2.0 + 1.0 * 8 * 1.0;
  EXPECT_NEAR(slim_sparsity_loss(m, w).item<double>(), expected, 1e-5);
  EXPECT_FLOAT_EQ(token_mask_values(torch::full({3}, kTokenMaskInit))[1].item<float>(), 1.0f);
}

TEST(SlimMasks, RoundTripAndErrorsNameTheFile) {
  VisionTransformer model = test::random_tiny_model(1);
  const SlimMasks m = test::random_masks(model->config(), 2, true);
  const SlimMasks back =
      slim_masks_from_tensors(slim_masks_to_tensors(m), model->config(), "m.safetensors");
  EXPECT_TRUE(torch::equal(back.attn, m.attn));
  EXPECT_TRUE(torch::equal(back.tokens, m.tokens));
  TensorMap bad = slim_masks_to_tensors(m);
  bad["mlp"] = torch::ones({4, 7});
  try {
    slim_masks_from_tensors(bad, model->config(), "m.safetensors");
    FAIL() << "expected vitc::Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("m.safetensors"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'mlp'"), std::string::npos) << msg;
  }
  bad = slim_masks_to_tensors(m);
  bad.erase("attn");
  EXPECT_THROW(slim_masks_from_tensors(bad, model->config(), "m.safetensors"), Error);
}

TEST(SlimMasks, RejectsModelsThatAreNotDense) {
  VisionTransformer model = test::random_tiny_model(1);
  Structure s = dense_structure(model->config());
  s.blocks[2].heads[0].qk.pop_back();  // one head narrower than the others
  s.blocks[2].heads[0].v.pop_back();
  try {
    slim_geometry(compact_config(model->config(), s));
    FAIL() << "expected vitc::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("block 2"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace vitc
