// The slicing contract: compact logits == masked logits on random Structures, save -> load ->
// same logits, exact parameter counts, and clear errors for structures that do not fit.
#include <cstdio>
#include <filesystem>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "test_support.h"
#include "model/complexity.h"
#include "model/model_dir.h"
#include "model/slice.h"
#include "model/structure_masks.h"
#include "model/slice_test_util.h"
#include "util/error.h"
#include "util/files.h"

namespace vitc {
namespace {

// float32 throughout. The compact model sums the same products in another order (fewer terms, and
// grouped heads), so logits agree to rounding: |compact - masked| <= 1e-5 + 1e-5 * |masked|.
constexpr double kAbsTol = 1e-5;
constexpr double kRelTol = 1e-5;

using vitc::test_support::absent_dir;

// Parameters and buffers (T2T-ViT's fixed tensors count as parameters, as its paper does).
int64_t allocated_params(torch::nn::Module& model) {
  int64_t total = 0;
  for (const auto& p : model.parameters()) total += p.numel();
  for (const auto& b : model.buffers()) total += b.numel();
  return total;
}

// What the random structures exercised, so the test shows it covered each case it claims.
struct Coverage {
  int skipped_blocks = 0, skipped_attention = 0, single_head = 0, uneven_heads = 0,
      qk_differs_from_v = 0, mlp_removed = 0, distilled = 0;
  void add(const Structure& s, const ViTConfig& source) {
    distilled += source.distilled ? 1 : 0;
    for (const BlockKeep& b : s.blocks) {
      skipped_blocks += b.skip;
      if (b.skip) continue;
      skipped_attention += b.attn_skip;
      mlp_removed += b.mlp.empty();
      single_head += b.heads.size() == 1;
      bool uneven = false;
      for (const HeadKeep& h : b.heads) {
        uneven = uneven || h.qk.size() != b.heads[0].qk.size() || h.v.size() != b.heads[0].v.size();
        qk_differs_from_v += h.qk.size() != h.v.size();
      }
      uneven_heads += uneven;
    }
  }
};

TEST(Slice, CompactEqualsMaskedOnRandomStructuresAndRoundTrips) {
  Coverage coverage;
  int checked = 0;
  double worst = 0.0;
  for (const ViTConfig& config : test::contract_sources()) {
    VisionTransformer source = make_model(config, 1);
    test::randomize_parameters(*source, 2);
    source->eval();
    torch::manual_seed(3);
    const at::Tensor images = torch::randn({3, 1, 28, 28});
    for (uint64_t seed = 0; seed < 4; ++seed) {
      SCOPED_TRACE(config.name + " structure seed " + std::to_string(seed));
      const Structure structure = test::random_structure(config, 100 + seed);
      coverage.add(structure, config);
      const ModelMasks masks = structure_masks(config, structure);
      VisionTransformer compact = slice_model(*source, structure);
      torch::NoGradGuard no_grad;
      const HeadOutputs masked = source->forward_heads(images, &masks);
      const HeadOutputs sliced = compact->forward_heads(images);
      EXPECT_TRUE(torch::allclose(sliced.cls, masked.cls, kRelTol, kAbsTol))
          << (sliced.cls - masked.cls).abs().max().item<double>();
      worst = std::max(worst, (sliced.cls - masked.cls).abs().max().item<double>());
      if (config.distilled) {
        EXPECT_TRUE(torch::allclose(sliced.dist, masked.dist, kRelTol, kAbsTol));
      }
      // The masks do remove something: the masked logits are not the dense ones.
      EXPECT_FALSE(torch::allclose(masked.cls, source->forward_heads(images).cls, 1e-3, 1e-3));
      EXPECT_EQ(allocated_params(*compact), compute_complexity(compact->config()).params());

      const std::string dir = absent_dir(config.name + "_" + std::to_string(seed));
      save_compressed_model_dir(dir, *compact, config, structure, {{"method", "test"}});
      LoadedModel loaded = load_model_dir(dir);
      EXPECT_EQ(loaded.model->config(), compact->config());
      EXPECT_TRUE(torch::equal(loaded.model->forward(images), compact->forward(images)));
      const auto info = read_compressed_info(loaded.model_json, loaded.model->config(), dir);
      ASSERT_TRUE(info.has_value());
      EXPECT_EQ(info->structure, structure);
      EXPECT_EQ(info->source, config);
      std::filesystem::remove_all(dir);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 4 * static_cast<int>(test::contract_sources().size()));
  std::printf("largest |compact - masked| logit difference over %d structures: %.2e\n", checked, worst);
  EXPECT_LT(worst, kAbsTol * 10);
  EXPECT_GT(coverage.skipped_blocks, 0);
  EXPECT_GT(coverage.skipped_attention, 0);
  EXPECT_GT(coverage.single_head, 0);
  EXPECT_GT(coverage.uneven_heads, 0);
  EXPECT_GT(coverage.qk_differs_from_v, 0);
  EXPECT_GT(coverage.mlp_removed, 0);
  EXPECT_GT(coverage.distilled, 0);
}

TEST(Slice, DenseStructureGivesTheSameModel) {
  VisionTransformer source = make_model(test::contract_sources()[1], 4);
  test::randomize_parameters(*source, 5);
  VisionTransformer compact = slice_model(*source, dense_structure(source->config()));
  EXPECT_EQ(compact->config().blocks, source->config().blocks);
  const at::Tensor images = torch::randn({2, 1, 28, 28});
  EXPECT_TRUE(torch::equal(compact->forward(images), source->forward(images)));
}

TEST(Slice, HeadsOfEqualWidthAreGroupedAndKeepTheScale) {
  const ViTConfig config = named_config("fm_tiny");  // 4 heads of 16
  VisionTransformer source = make_model(config, 6);
  test::randomize_parameters(*source, 7);
  Structure s = dense_structure(config);
  BlockKeep& b = s.blocks[1];
  b.heads = {{3, {0, 5, 9, 2}, {1, 2}},        // 4/2
             {0, {15, 1}, {7, 8, 9, 10}},      // 2/4
             {2, {4, 3, 2, 1}, {0, 1}},        // 4/2
             {1, {6}, {3}}};                   // 1/1
  VisionTransformer compact = slice_model(*source, s);
  const std::vector<HeadSpec> expected = {{4, 2}, {4, 2}, {2, 4}, {1, 1}};
  EXPECT_EQ(compact->block(1)->attn->heads(), expected);
  EXPECT_EQ(compact->block(1)->attn->scale(), source->block(1)->attn->scale());
  EXPECT_EQ(compact->block(1)->attn->qkv->weight.size(0), 2 * 11 + 9);
  EXPECT_EQ(compact->block(1)->attn->proj->weight.size(1), 9);
  const ModelMasks masks = structure_masks(config, s);
  const at::Tensor images = torch::randn({2, 1, 28, 28});
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::allclose(compact->forward(images), source->forward(images, &masks), kRelTol, kAbsTol));
}

using vitc::test_support::expect_error;

TEST(Slice, StructureOfAnotherModelIsAClearError) {
  VisionTransformer narrow = make_model(make_uniform_config("narrow", 28, 7, 1, 10, 32, 4, 4, 2.0, false), 0);
  const Structure wide = dense_structure(named_config("fm_tiny"));  // heads of 16, mlp 128
  expect_error([&] { slice_model(*narrow, wide); },
               {"model 'narrow'", "blocks[0].heads[0].qk: index 8 out of range [0, 8)"});
  VisionTransformer shallow = make_model(make_uniform_config("shallow", 28, 7, 1, 10, 64, 3, 4, 2.0, false), 0);
  expect_error([&] { slice_model(*shallow, wide); },
               {"model 'shallow'", "blocks: has 4 blocks but the model has 3"});
  VisionTransformer two_heads = make_model(make_uniform_config("two", 28, 7, 1, 10, 32, 4, 2, 4.0, false), 0);
  expect_error([&] { slice_model(*two_heads, wide); }, {"blocks[0].heads[2].source: head 2 out of range [0, 2)"});
}

TEST(Slice, StructureThatRemovesWhatABlockNeedsIsAnError) {
  VisionTransformer model = make_model(named_config("fm_tiny"), 0);
  Structure no_heads = dense_structure(model->config());
  no_heads.blocks[2].heads.clear();
  expect_error([&] { slice_model(*model, no_heads); }, {"blocks[2].heads: a kept attention needs at least one head"});
  Structure no_qk = dense_structure(model->config());
  no_qk.blocks[0].heads[3].qk.clear();
  expect_error([&] { slice_model(*model, no_qk); }, {"blocks[0].heads[3].qk: a kept head needs at least one q/k dim"});
  Structure nothing = dense_structure(model->config());
  nothing.blocks[1].attn_skip = true;
  nothing.blocks[1].heads.clear();
  nothing.blocks[1].mlp.clear();
  expect_error([&] { slice_model(*model, nothing); }, {"blocks[1].mlp", "keeps nothing", "set skip"});
  // Made explicit, the same intent is a skipped block.
  VisionTransformer compact = slice_model(*model, normalize_structure(nothing));
  EXPECT_TRUE(compact->config().blocks[1].skip);
}

TEST(Slice, TamperedCompressedModelJsonIsRejectedOnLoad) {
  const ViTConfig config = named_config("fm_tiny");
  VisionTransformer source = make_model(config, 8);
  Structure s = dense_structure(config);
  s.blocks[2].mlp.resize(50);
  VisionTransformer compact = slice_model(*source, s);
  const std::string dir = absent_dir("tampered");
  save_compressed_model_dir(dir, *compact, config, s);
  const std::string json_path = dir + "/model.json";
  const nlohmann::json good = read_json(json_path);

  nlohmann::json j = good;
  j["structure"]["blocks"][2]["mlp"].push_back(127);  // 51 neurons, weights have 50
  write_json(json_path, j);
  expect_error([&] { load_model_dir(dir); }, {"model.json", "config.blocks[2] does not match structure.blocks[2]"});

  j = good;
  j["structure"]["blocks"][3]["heads"][1]["v"][0] = 70;
  write_json(json_path, j);
  expect_error([&] { load_model_dir(dir); }, {"model.json", "blocks[3].heads[1].v: index 70 out of range [0, 16)"});

  j = good;
  j.erase("source_config");
  write_json(json_path, j);
  expect_error([&] { load_model_dir(dir); }, {"model.json", "no \"source_config\""});
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vitc
