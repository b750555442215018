// Token pruning (BlockSpec::tokens): a compact model that gathers the kept tokens computes the
// logits of its source with those tokens removed as attention keys (structure_masks), and not
// those of the reference's norm-output masking; token lists that are out of range, unordered, not
// nested or kept after the source dropped them are refused, naming the block and the position.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "model/complexity.h"
#include "model/model_dir.h"
#include "model/model_dir_test_util.h"
#include "model/slice.h"
#include "model/slice_test_util.h"
#include "model/structure_masks.h"
#include "test_support.h"
#include "util/files.h"

namespace vitc {
namespace {

using test_support::expect_error;

double max_diff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

// 16 patches (28 / 7 squared): 10 kept from block 1, 6 from block 2, 3 from the last block
// (block 3 of 4; a 3-block source keeps 6).
Structure dropping_structure(const ViTConfig& config) {
  Structure s = dense_structure(config);
  s.blocks[1].tokens = {0, 2, 3, 5, 7, 8, 9, 11, 12, 15};
  s.blocks[2].tokens = {2, 3, 5, 9, 11, 15};
  if (config.depth() > 3) s.blocks[3].tokens = {5, 9, 15};
  s.blocks[2].mlp.resize(20);
  return s;
}

TEST(TokenPruning, CompactModelEqualsSourceWithDroppedTokensRemovedAsKeys) {
  for (const ViTConfig& config : test::contract_sources()) {
    SCOPED_TRACE(config.name);
    if (config.is_swin()) {  // windows need the whole grid: a Swin refuses token lists
      EXPECT_THROW(compact_config(config, dropping_structure(config)), Error);
      continue;
    }
    VisionTransformer source = make_model(config, 1);
    test::randomize_parameters(*source, 2);
    source->eval();
    const Structure s = dropping_structure(config);
    VisionTransformer compact = slice_model(*source, s);
    compact->eval();
    EXPECT_EQ(compact->config().block_tokens(0), config.num_tokens());
    const int last = config.depth() - 1;
    const int last_patches = config.depth() > 3 ? 3 : 6;
    EXPECT_EQ(compact->config().block_tokens(last), last_patches + config.num_prefix_tokens());
    const at::Tensor images = torch::randn({5, 1, 28, 28});
    torch::NoGradGuard no_grad;
    const ModelMasks keys = structure_masks(config, s);
    ASSERT_TRUE(keys.blocks[1].keys.defined());
    EXPECT_FALSE(keys.blocks[0].keys.defined());
    const at::Tensor logits = compact->forward(images);
    EXPECT_LT(max_diff(logits, source->forward(images, &keys)), 1e-5);

    // The reference's token "removal" (norm outputs multiplied by 0, tokens still keys and in
    // the residual stream) computes something else.
    ModelMasks norm_masked;
    for (int i = 0; i < config.depth(); ++i) {
      BlockMasks m = keys.blocks[i];
      if (m.keys.defined()) m.tokens = m.keys;
      m.keys = at::Tensor();
      norm_masked.blocks.push_back(m);
    }
    EXPECT_GT(max_diff(logits, source->forward(images, &norm_masked)), 1e-3);

    // Walking the blocks one by one with block_input computes forward_features.
    at::Tensor x = compact->embed(images);
    for (int i = 0; i < config.depth(); ++i) x = compact->block(i)->forward(compact->block_input(i, x));
    EXPECT_LT(max_diff(compact->norm->forward(x), compact->forward_features(images)), 1e-6);
    EXPECT_EQ(x.size(1), last_patches + config.num_prefix_tokens());
  }
}

TEST(TokenPruning, SlicingATokenPrunedModelAgainKeepsItsDrops) {
  const ViTConfig config = test::contract_sources()[0];
  VisionTransformer source = make_model(config, 3);
  test::randomize_parameters(*source, 4);
  VisionTransformer compact = slice_model(*source, dropping_structure(config));
  const Structure again = dense_structure(compact->config());
  EXPECT_EQ(again.blocks[3].tokens, (std::vector<int>{5, 9, 15}));
  VisionTransformer twice = slice_model(*compact, again);
  const at::Tensor images = torch::randn({3, 1, 28, 28});
  torch::NoGradGuard no_grad;
  EXPECT_LT(max_diff(twice->forward(images), compact->forward(images)), 1e-6);
  // A structure may not bring back a token the source model dropped.
  Structure back = again;
  back.blocks[1].tokens.clear();  // block 1 would process every patch again
  expect_error([&] { validate_structure(back, compact->config()); },
               {"blocks[1].tokens", "keeps patch position 1", "source model has dropped"});
}

TEST(TokenPruning, BadTokenListsNameTheBlockAndPosition) {
  ViTConfig config = named_config("fm_tiny");  // 16 patches
  config.blocks[1].tokens = {0, 16};
  expect_error([&] { config.validate(); }, {"blocks[1].tokens[1]", "patch position 16", "out of range [0, 16)"});
  config.blocks[1].tokens = {-1, 3};
  expect_error([&] { config.validate(); }, {"blocks[1].tokens[0]", "patch position -1", "cls/dist tokens are always kept"});
  config.blocks[1].tokens = {3, 2};
  expect_error([&] { config.validate(); }, {"blocks[1].tokens[1]", "strictly increasing"});
  config.blocks[1].tokens = {3, 3};
  expect_error([&] { config.validate(); }, {"blocks[1].tokens[1]", "strictly increasing"});
  config.blocks[1].tokens = {1, 2, 3};
  config.blocks[2].tokens = {2, 4};
  expect_error([&] { config.validate(); }, {"blocks[2].tokens[1]", "patch position 4", "dropped by an earlier block"});

  const ViTConfig tiny = named_config("fm_tiny");
  Structure s = dense_structure(tiny);
  s.blocks[0].tokens = {5, 7};
  s.blocks[3].tokens = {5, 6};
  expect_error([&] { validate_structure(s, tiny); }, {"blocks[3].tokens[1]", "patch position 6", "nested"});
  s.blocks[3].tokens = {9};
  expect_error([&] { validate_structure(s, tiny); }, {"blocks[3].tokens[0]", "patch position 9"});
}

TEST(TokenPruning, ModelDirRoundTripsAndRefusesBadTokens) {
  const ViTConfig config = named_config("fm_tiny");
  VisionTransformer source = make_model(config, 5);
  const Structure s = dropping_structure(config);
  VisionTransformer compact = slice_model(*source, s);
  const std::string dir = test_support::fresh_dir("token_pruned");
  save_compressed_model_dir(dir, *compact, config, s);
  LoadedModel loaded = load_model_dir(dir);
  EXPECT_EQ(loaded.model->config(), compact->config());
  const auto info = read_compressed_info(loaded.model_json, loaded.model->config(), dir);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->structure, s);
  const at::Tensor images = torch::randn({2, 1, 28, 28});
  torch::NoGradGuard no_grad;
  compact->eval();
  loaded.model->eval();
  EXPECT_LT(max_diff(loaded.model->forward(images), compact->forward(images)), 1e-6);

  const auto refused = [&](const std::function<void(nlohmann::json&)>& edit,
                           const std::vector<std::string>& parts) { test::expect_refused(dir, edit, parts); };
  refused([](nlohmann::json& j) { j["config"]["blocks"][3]["tokens"] = {5, 99}; },
          {"blocks[3].tokens[1]", "patch position 99"});
  refused([](nlohmann::json& j) { j["config"]["blocks"][3]["tokens"] = {5, 6}; },
          {"blocks[3].tokens[1]", "dropped by an earlier block"});
  refused([](nlohmann::json& j) { j["config"]["blocks"][3]["tokens"] = "all"; },
          {"config.blocks[3].tokens"});
  refused([](nlohmann::json& j) { j["structure"]["blocks"][3]["tokens"] = {5, 9}; },
          {"does not match structure.blocks[3]"});
  refused([](nlohmann::json& j) { j["structure"]["blocks"][2]["tokens"] = {2, 3, 1}; },
          {"structure", "blocks[2].tokens[2]", "strictly increasing"});
  EXPECT_NO_THROW(load_model_dir(dir));
}

TEST(TokenPruning, MethodsThatMimicEveryTokenRefuseATokenPrunedModel) {
  ViTConfig config = named_config("fm_tiny");
  config.blocks[2].tokens = {0, 1, 2};
  expect_error([&] { check_keeps_every_token(config, "the ViT-Slim search"); },
               {"the ViT-Slim search", "drops tokens from block 2", "4 of 17 tokens"});
  EXPECT_NO_THROW(check_keeps_every_token(named_config("fm_tiny"), "x"));
}

}  // namespace
}  // namespace vitc
