// Extraction: the sliced compact model equals the searched model under 0/1 masks (or, folded,
// under the kept soft mask values), folding leaves the search untouched, MACs targets are met.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "compress/slim/extract.h"
#include "compress/slim/fold.h"
#include "model/complexity.h"
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
    o.macs = parse_macs_target(target);
    Extraction e = extract_from_search(search, o);
    const int64_t want = o.macs->resolve(teacher);
    EXPECT_NEAR(e.info["macs"].get<int64_t>(), want, 0.01 * want) << target;
    EXPECT_EQ(e.info["solution"]["macs"], e.info["macs"]);
  }
}

TEST(Extract, TokenBudgetIsReportedButTokensStay) {
  SearchDir search = fake_search(6);
  search.masks = test::random_masks(search.model->config(), 7, /*with_tokens=*/true);
  ExtractOptions o;
  o.fractions = {0.7, 0.7};
  o.tokens = 0.7;
  Extraction e = extract_from_search(search, o);
  ASSERT_TRUE(e.info.contains("tokens"));
  EXPECT_LT(e.info["tokens"]["macs_if_dropped"].get<int64_t>(), e.info["macs"].get<int64_t>());
  EXPECT_EQ(e.compact->config().num_tokens(), search.model->config().num_tokens());
}

}  // namespace
}  // namespace vitc
