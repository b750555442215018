// Structure: JSON round trip, validation messages naming block and field, normalisation, head
// grouping, compact configs and the layout of the equivalent masks.
#include <functional>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "test_support.h"
#include "model/structure.h"
#include "model/structure_masks.h"
#include "model/slice_test_util.h"
#include "util/error.h"

namespace vitc {
namespace {

TEST(Structure, JsonRoundTrip) {
  for (const ViTConfig& config : test::contract_sources()) {
    for (uint64_t seed = 0; seed < 3; ++seed) {
      const Structure s = test::random_structure(config, seed);
      const nlohmann::json j = nlohmann::json::parse(structure_to_json(s).dump());
      EXPECT_EQ(structure_from_json(j, "x.json"), s);
    }
  }
  const Structure dense = dense_structure(named_config("deit_small_patch16_224"));
  EXPECT_EQ(structure_from_json(structure_to_json(dense), "x.json"), dense);
}

void expect_error(const std::function<void()>& f, const std::string& part) {
  vitc::test_support::expect_error(f, {part});
}

TEST(Structure, BadJsonNamesFileAndKey) {
  nlohmann::json j = structure_to_json(dense_structure(named_config("fm_tiny")));
  j["blocks"][2].erase("mlp");
  expect_error([&] { structure_from_json(j, "m.json"); }, "m.json: missing key 'structure.blocks[2].mlp'");
  j = structure_to_json(dense_structure(named_config("fm_tiny")));
  j["blocks"][1]["heads"][3]["qk"] = "all";
  expect_error([&] { structure_from_json(j, "m.json"); }, "key 'structure.blocks[1].heads[3].qk' is \"all\", expected an array");
}

// One broken structure per rule, each with the message it must give.
TEST(Structure, ValidationNamesBlockAndField) {
  const ViTConfig config = named_config("fm_tiny");  // 4 blocks, 4 heads of 16, mlp 128
  struct Case {
    std::function<void(Structure&)> mutate;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](Structure& s) { s.blocks.pop_back(); }, "blocks: has 3 blocks but the model has 4"},
      {[](Structure& s) { s.blocks[3].heads[1].qk.push_back(16); },
       "structure for model 'fm_tiny': blocks[3].heads[1].qk: index 16 out of range [0, 16)"},
      {[](Structure& s) { s.blocks[3].heads[1].v[0] = 70; }, "blocks[3].heads[1].v: index 70 out of range [0, 16)"},
      {[](Structure& s) { s.blocks[0].heads[0].v.push_back(2); }, "blocks[0].heads[0].v: index 2 appears more than once"},
      {[](Structure& s) { s.blocks[1].heads[2].source = 4; }, "blocks[1].heads[2].source: head 4 out of range [0, 4)"},
      {[](Structure& s) { s.blocks[1].heads[2].source = 0; }, "blocks[1].heads[2].source: head 0 is kept more than once"},
      {[](Structure& s) { s.blocks[2].heads[0].qk.clear(); }, "blocks[2].heads[0].qk: a kept head needs at least one q/k dim"},
      {[](Structure& s) { s.blocks[2].heads[0].v.clear(); }, "blocks[2].heads[0].v: a kept head needs at least one v dim"},
      {[](Structure& s) { s.blocks[2].heads.clear(); }, "blocks[2].heads: a kept attention needs at least one head"},
      {[](Structure& s) { s.blocks[2].attn_skip = true; }, "blocks[2].heads: must be empty when attn_skip is true"},
      {[](Structure& s) { s.blocks[0].skip = true; s.blocks[0].heads.clear(); },
       "blocks[0].mlp: must be empty when skip is true"},
      {[](Structure& s) { s.blocks[1].mlp.push_back(-1); }, "blocks[1].mlp: index -1 out of range [0, 128)"},
      {[](Structure& s) { s.blocks[1].attn_skip = true; s.blocks[1].heads.clear(); s.blocks[1].mlp.clear(); },
       "blocks[1].mlp: empty while attn_skip is true, so the block keeps nothing"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    Structure s = dense_structure(config);
    cases[i].mutate(s);
    expect_error([&] { validate_structure(s, config); }, cases[i].message);
  }
  validate_structure(dense_structure(config), config);  // and the dense one is fine
}

TEST(Structure, SourceWithSkippedPartsConstrainsTheStructure) {
  ViTConfig source = named_config("fm_tiny");
  source.blocks[1].skip = true;
  source.blocks[2].attn_skip = true;
  source.blocks[2].heads.clear();
  source.blocks[3].mlp_hidden = 0;
  Structure s = dense_structure(source);
  EXPECT_TRUE(s.blocks[1].skip);
  EXPECT_TRUE(s.blocks[2].attn_skip);
  EXPECT_TRUE(s.blocks[3].mlp.empty());
  validate_structure(s, source);
  // The compact config describes a skipped block by its flag alone (no heads, no MLP).
  std::vector<BlockSpec> expected = source.blocks;
  expected[1].heads.clear();
  expected[1].mlp_hidden = 0;
  EXPECT_EQ(compact_config(source, s).blocks, expected);
  Structure keeps_skipped = s;
  keeps_skipped.blocks[1] = dense_structure(named_config("fm_tiny")).blocks[1];
  expect_error([&] { validate_structure(keeps_skipped, source); }, "blocks[1].skip: the source block is skipped");
  Structure keeps_attention = s;
  keeps_attention.blocks[2].attn_skip = false;
  keeps_attention.blocks[2].heads = {{0, {0}, {0}}};
  expect_error([&] { validate_structure(keeps_attention, source); },
               "blocks[2].attn_skip: the source block has no attention branch");
  Structure mlp_of_nothing = s;
  mlp_of_nothing.blocks[3].mlp = {0};
  expect_error([&] { validate_structure(mlp_of_nothing, source); }, "blocks[3].mlp: index 0 out of range [0, 0)");
}

TEST(Structure, NormalizeMakesEmptyBlocksSkips) {
  const ViTConfig config = named_config("fm_tiny");
  Structure s = dense_structure(config);
  s.blocks[0].heads.clear();            // no heads -> attention skipped
  s.blocks[1].heads.clear();            // no heads and no neurons -> block skipped
  s.blocks[1].mlp.clear();
  s.blocks[2].attn_skip = true;         // attention skipped but heads left over -> cleared
  const Structure n = normalize_structure(s);
  EXPECT_TRUE(n.blocks[0].attn_skip);
  EXPECT_FALSE(n.blocks[0].skip);
  EXPECT_TRUE(n.blocks[1].skip);
  EXPECT_TRUE(n.blocks[2].heads.empty());
  EXPECT_EQ(n.blocks[3], s.blocks[3]);
  validate_structure(n, config);
}

TEST(Structure, HeadComputeOrderGroupsEqualWidthsStably) {
  BlockKeep b;
  auto head = [](int source, int qk, int v) {
    return HeadKeep{source, std::vector<int>(qk, 0), std::vector<int>(v, 0)};
  };
  b.heads = {head(0, 4, 4), head(1, 2, 4), head(2, 4, 4), head(3, 2, 4), head(4, 3, 1), head(5, 4, 2)};
  EXPECT_EQ(head_compute_order(b), (std::vector<int>{0, 2, 1, 3, 4, 5}));
}

TEST(Structure, CompactConfigKeepsScaleAndSizes) {
  const ViTConfig source = named_config("deit_small_distilled_patch16_224");
  Structure s = dense_structure(source);
  s.blocks[0].heads = {{5, {0, 1, 2}, {9, 8}}, {1, {3}, {4, 5, 6, 7}}};
  s.blocks[0].mlp = {7, 3};
  s.blocks[4] = BlockKeep{true, false, {}, {}, {}};
  s.blocks[5].attn_skip = true;
  s.blocks[5].heads.clear();
  const ViTConfig c = compact_config(source, s);
  EXPECT_EQ(c.name, "deit_small_distilled_patch16_224_compact");
  EXPECT_EQ(compact_config(c, dense_structure(c)).name, c.name);  // no second suffix
  EXPECT_EQ(c.blocks[0].heads, (std::vector<HeadSpec>{{3, 2}, {1, 4}}));
  EXPECT_EQ(c.blocks[0].attn_scale, source.blocks[0].attn_scale);  // 1/sqrt(64), not 1/sqrt(3)
  EXPECT_EQ(c.blocks[0].mlp_hidden, 2);
  EXPECT_TRUE(c.blocks[4].skip);
  EXPECT_FALSE(c.blocks[5].has_attention());
  EXPECT_EQ(c.blocks[5].mlp_hidden, 1536);
  EXPECT_EQ(c.embed_dim, source.embed_dim);
  EXPECT_EQ(c.num_tokens(), 198);
}

std::vector<int64_t> ones(const at::Tensor& mask) {  // positions of the 1s
  const at::Tensor index = mask.nonzero().flatten().contiguous();
  return std::vector<int64_t>(index.data_ptr<int64_t>(), index.data_ptr<int64_t>() + index.numel());
}

TEST(Structure, MasksFollowTheSourceLayout) {
  ViTConfig source = make_uniform_config("m", 28, 7, 1, 10, 48, 2, 4, 2.0, false);
  source.blocks[0].heads = {{8, 4}, {16, 16}, {4, 12}, {12, 12}};  // q offsets 0, 8, 24, 28
  Structure s = dense_structure(source);
  s.blocks[0].heads = {{2, {3, 1}, {11}}, {0, {0}, {2, 3}}};
  s.blocks[0].mlp = {5};
  s.blocks[1].mlp.clear();
  const ModelMasks m = structure_masks(source, s);
  ASSERT_EQ(m.blocks.size(), 2u);
  const BlockMasks& b = m.blocks[0];
  EXPECT_TRUE(torch::equal(b.heads, torch::tensor({1.0f, 0.0f, 1.0f, 0.0f})));
  EXPECT_EQ(b.qk.size(0), 40);
  EXPECT_EQ(ones(b.qk), (std::vector<int64_t>{0, 25, 27}));
  EXPECT_EQ(b.v.size(0), 44);  // v offsets 0, 4, 20, 32
  EXPECT_EQ(ones(b.v), (std::vector<int64_t>{2, 3, 31}));
  EXPECT_EQ(ones(b.mlp), (std::vector<int64_t>{5}));
  EXPECT_FALSE(b.gate.defined());
  EXPECT_FALSE(m.blocks[1].mlp.defined());
  EXPECT_EQ(m.blocks[1].mlp_gate.item<float>(), 0.0f);  // removes fc2's bias too
  s.blocks[1] = BlockKeep{true, false, {}, {}, {}};
  EXPECT_EQ(structure_masks(source, s).blocks[1].gate.item<float>(), 0.0f);
}

TEST(Structure, CompressedInfoNeedsBothKeys) {
  const ViTConfig config = named_config("fm_tiny");
  EXPECT_FALSE(read_compressed_info(nlohmann::json::object(), config, "m.json").has_value());
  const nlohmann::json only_structure = {{"structure", structure_to_json(dense_structure(config))}};
  expect_error([&] { read_compressed_info(only_structure, config, "m.json"); },
               "m.json: has \"structure\" but no \"source_config\"");
}

}  // namespace
}  // namespace vitc
