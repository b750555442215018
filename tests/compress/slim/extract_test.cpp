// Extraction: the sliced compact model equals the searched model under 0/1 masks (or, folded,
// under the kept soft mask values), folding leaves the search untouched, MACs targets are met.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "compress/slim/extract.h"
#include "compress/slim/fold.h"
#include "compress/common/budget.h"
#include "model/complexity.h"
#include "model/counting_forward.h"
#include "model/state_dict.h"
#include "model/structure_masks.h"
#include "slim_test_util.h"

namespace vitc {
namespace {

SearchDir fake_search(uint64_t seed, bool distilled = false) {
  SearchDir s;
  s.dir = "(in memory)";
  s.model = test::random_tiny_model(seed, distilled);
  s.masks = test::random_masks(s.model->config(), seed + 100);
  return s;
}

void expect_close(const at::Tensor& a, const at::Tensor& b, const std::string& what) {
  const double diff = (a - b).abs().max().item<double>();
  EXPECT_LT(diff, 1e-5 * (1.0 + b.abs().max().item<double>())) << what << ": max |diff| " << diff;
}

TEST(Extract, SlicedModelEqualsZeroOneMaskedModel) {
  for (bool distilled : {false, true}) {
    SearchDir search = fake_search(1, distilled);
    ExtractOptions o;  // fold off: the default
    o.fractions = {0.6, 0.45};
    Extraction e = extract_from_search(search, o);
    const ViTConfig& source = search.model->config();
    const at::Tensor images = test::random_images(source, 6, 2);
    const ModelMasks zero_one = structure_masks(source, e.structure);
    expect_close(e.compact->forward(images), search.model->forward(images, &zero_one), "0/1 masks");
    EXPECT_LT(e.info["macs"].get<int64_t>(), compute_complexity(source).macs());
    EXPECT_EQ(e.compact->config(), compact_config(source, e.structure));
  }
}

TEST(Extract, FoldedModelEqualsKeptSoftMasks) {
  SearchDir search = fake_search(3);
  const ViTConfig& source = search.model->config();
  const at::Tensor images = test::random_images(source, 6, 4);
  std::map<std::string, at::Tensor> copies;
  for (const auto& [k, v] : state_dict(*search.model)) copies[k] = v.clone();

  ExtractOptions o;
  o.fold = true;
  o.fractions = {0.5, 0.5};
  Extraction e = extract_from_search(search, o);
  const ModelMasks soft_kept = extraction_masks(source, search.masks, e.structure, /*fold=*/true);
  expect_close(e.compact->forward(images), search.model->forward(images, &soft_kept), "folded");
  for (const auto& [k, v] : state_dict(*search.model)) {
    EXPECT_TRUE(torch::equal(v, copies.at(k))) << k << " changed: folding must work on a copy";
  }

  // With everything kept, the folded model is the soft-masked searched model itself.
  ExtractOptions all;
  all.fold = true;
  all.fractions = {1.0, 1.0};
  Extraction dense = extract_from_search(search, all);
  const ModelMasks soft = slim_model_masks(search.masks, source);
  expect_close(dense.compact->forward(images), search.model->forward(images, &soft), "dense fold");
}

TEST(Extract, MacsTargetIsMetAndRecorded) {
  SearchDir search = fake_search(5);
  const int64_t teacher = compute_complexity(search.model->config()).macs();
  for (const char* target : {"0.7", "50%", "0.4"}) {
    ExtractOptions o;
    o.budget = parse_macs_target(target);
    Extraction e = extract_from_search(search, o);
    const int64_t want = o.budget->resolve(teacher);
    EXPECT_NEAR(e.info["macs"].get<int64_t>(), want, 0.01 * want) << target;
    EXPECT_EQ(e.info["solution"]["macs"], e.info["macs"]);
  }
}

TEST(SlimExtract, DroppedTokensCutMacsAndLatency) {
  for (bool distilled : {false, true}) {
    SCOPED_TRACE(distilled ? "distilled" : "plain");
    SearchDir search = fake_search(6, distilled);
    const ViTConfig& source = search.model->config();
    search.masks = test::random_masks(source, 7, /*with_tokens=*/true);
    ExtractOptions o;
    o.fractions = {0.7, 0.7};
    o.tokens = 0.6;
    Extraction e = extract_from_search(search, o);
    const ViTConfig& compact = e.compact->config();
    ASSERT_TRUE(compact.drops_tokens());
    EXPECT_LT(compact.block_tokens(source.depth() - 1), source.num_tokens());
    // Exact MACs: the analytic count equals the multiply-adds an independent forward executes.
    const at::Tensor images = test::random_images(source, 3, 8);
    torch::NoGradGuard no_grad;
    test::CountingForward counter;
    const at::Tensor logits = counter.forward(*e.compact, images);
    EXPECT_EQ(e.info["macs"].get<int64_t>() * 3, counter.macs);
    expect_close(logits, e.compact->forward(images), "counting forward");
    // The compact model equals its source with the dropped tokens removed as keys.
    const ModelMasks masked = extraction_masks(source, search.masks, e.structure, false);
    expect_close(e.compact->forward(images), search.model->forward(images, &masked), "key masks");
    // The tokens cut MACs below the same structure keeping every token.
    Structure all_tokens = e.structure;
    for (BlockKeep& b : all_tokens.blocks) b.tokens.clear();
    EXPECT_LT(e.info["macs"].get<int64_t>(), compact_macs(source, all_tokens));
    std::vector<int64_t> per_block;
    for (int l = 0; l < source.depth(); ++l) per_block.push_back(compact.block_tokens(l) - source.num_prefix_tokens());
    EXPECT_EQ(e.info["tokens"]["per_block"], nlohmann::json(per_block));
  }
  // The speed-up over the same model with every token: bench/slicing_latency.cpp, case (d).
}

TEST(SlimExtract, MacsTargetSharesItsKeepFractionWithTokens) {
  SearchDir search = fake_search(9);
  const ViTConfig& source = search.model->config();
  search.masks = test::random_masks(source, 10, /*with_tokens=*/true);
  const int64_t teacher = compute_complexity(source).macs();
  for (const char* target : {"0.6", "0.3"}) {
    ExtractOptions o;
    o.budget = parse_macs_target(target);
    Extraction e = extract_from_search(search, o);
    const int64_t want = o.budget->resolve(teacher);
    EXPECT_NEAR(e.info["macs"].get<int64_t>(), want, 0.01 * want) << target;
    EXPECT_GE(e.info["solution"]["keep_fraction_tokens"].get<double>(),
              e.info["solution"]["keep_fraction_attn"].get<double>());
    EXPECT_TRUE(e.compact->config().drops_tokens()) << target;
  }
  ExtractOptions every_token;  // --budget-tokens 1: tokens stay out of the budget
  every_token.budget = parse_macs_target("0.6");
  every_token.tokens = 1.0;
  Extraction e = extract_from_search(search, every_token);
  EXPECT_FALSE(e.compact->config().drops_tokens());
  EXPECT_NEAR(e.info["macs"].get<int64_t>(), 0.6 * teacher, 0.006 * teacher);
}

// --params: the extracted model's parameters meet the target; a token search keeps every token
// (tokens hold no parameters, so they cannot pay for a parameter budget).
TEST(SlimExtract, ParameterTargetIsMetAndKeepsEveryToken) {
  SearchDir search = fake_search(11);
  const ViTConfig& source = search.model->config();
  search.masks = test::random_masks(source, 12, /*with_tokens=*/true);
  const int64_t teacher = compute_complexity(source).params();
  ExtractOptions o;
  o.budget = parse_budget("0.5", Resource::params, "--params");
  Extraction e = extract_from_search(search, o);
  EXPECT_NEAR(e.info["params"].get<int64_t>(), teacher / 2, 0.01 * teacher / 2);
  EXPECT_EQ(e.info["solution"]["params"], e.info["params"]);
  EXPECT_EQ(e.info["params"].get<int64_t>(), compute_complexity(e.compact->config()).params());
  EXPECT_FALSE(e.compact->config().drops_tokens());
  EXPECT_EQ(e.info["budget"], nlohmann::json({{"resource", "params"}, {"fraction", 0.5},
                                              {"tolerance", 0.01}}));
}

}  // namespace
}  // namespace vitc
