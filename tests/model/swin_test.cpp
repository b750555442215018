// Swin Transformer: parameter counts against timm's, analytic MACs against executed
// multiply-adds (windows, relative position bias, patch merging), logits against a PyTorch
// reference written from the paper and timm (tests/python/swin_reference.py), timm checkpoints of
// both layouts imported by shape, and what a Swin config refuses.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/complexity.h"
#include "model/counting_forward.h"
#include "model/families/swin/swin_windows.h"
#include "model/parameter_position.h"
#include "model/slice.h"
#include "model/slice_test_util.h"
#include "model/state_dict.h"
#include "model/timm_import.h"
#include "python/python_test_util.h"
#include "util/error.h"
#include "test_support.h"

namespace vitc {
namespace {

using namespace vitc::testing;
using test_support::error_of;

// A three-stage Swin on 56x56 RGB images: patch 2 makes a 28x28 grid; windows of 7 (16, then 4
// shifted windows) and one 7x7 window in the last stage; widths 16/32/64, heads of width 8.
ViTConfig small_swin() {
  ViTConfig c = named_config("fm_swin");
  c.name = "small_swin";
  c.img_size = 56;
  c.in_chans = 3;
  c.num_classes = 7;
  c.mean = {0.485, 0.456, 0.406};  // what an import assumes for RGB without a sidecar
  c.std = {0.229, 0.224, 0.225};
  test::set_swin_stages(c, 16, {2, 2, 2}, 4.0);
  c.validate();
  return c;
}

// vitc's tensors under timm's names: blocks per stage, patch merging at the start of a stage and
// head.fc (timm >= 0.9), or at the end of the stage before and a plain head (the original
// layout, which also saved the relative position index and the shift masks).
TensorMap timm_layout(const TensorMap& vitc, const ViTConfig& c, bool original) {
  TensorMap out;
  const std::regex block(R"(^blocks\.(\d+)\.(.+)$)"), merge(R"(^merges\.(\d+)\.(.+)$)");
  for (const auto& [key, value] : vitc) {
    std::smatch m;
    std::string name = key;
    if (std::regex_match(key, m, block)) {
      const int i = std::stoi(m[1]), s = c.stage_of(i);
      name = str_cat("layers.", s, ".blocks.", i - c.stage_first_block(s), ".", std::string(m[2]));
    } else if (std::regex_match(key, m, merge)) {
      name = str_cat("layers.", std::stoi(m[1]) + (original ? 0 : 1), ".downsample.", std::string(m[2]));
    } else if (key.rfind("head.", 0) == 0 && !original) {
      name = "head.fc." + key.substr(5);
    }
    out[name] = value;
  }
  if (original) {
    for (int i = 0; i < c.depth(); ++i) {
      const int s = c.stage_of(i);
      const std::string prefix = str_cat("layers.", s, ".blocks.", i - c.stage_first_block(s), ".");
      const AttentionWindow w = c.block_window(i);
      out[prefix + "attn.relative_position_index"] = relative_position_index(w.window);
      if (w.shift > 0) out[prefix + "attn_mask"] = shifted_window_mask(w);
    }
  }
  return out;
}

int64_t allocated_parameters(VisionTransformerImpl& model) {
  int64_t n = 0;
  for (const auto& p : model.parameters()) n += p.numel();
  return n;
}

TEST(Swin, ParamCountsEqualTimms) {
  // sum(p.numel() for p in timm.create_model(name).parameters()), timm's source on torch 1.13,
  // measured 2026-12-06.
  const std::pair<const char*, int64_t> expected[] = {
      {"swin_tiny_patch4_window7_224", 28288354},
      {"swin_small_patch4_window7_224", 49606258},
      {"swin_base_patch4_window7_224", 87768224},
      {"swin_base_patch4_window12_384", 87903584},
      {"fm_swin", 189022}};  // timm's SwinTransformer with fm_swin's arguments
  for (const auto& [name, params] : expected) {
    EXPECT_EQ(compute_complexity(named_config(name)).params(), params) << name;
  }
  for (const char* name : {"swin_tiny_patch4_window7_224", "fm_swin"}) {
    VisionTransformer model(named_config(name));
    EXPECT_EQ(allocated_parameters(*model), compute_complexity(named_config(name)).params()) << name;
  }
  // Swin-T: 4.5 GFLOPs (multiply-adds) in its paper; ours count the matmuls only.
  EXPECT_NEAR(compute_complexity(named_config("swin_tiny_patch4_window7_224")).macs() / 1e9, 4.5, 0.1);
}

TEST(Swin, GeometryFollowsTimmsWindowRule) {
  const ViTConfig tiny = named_config("swin_tiny_patch4_window7_224");
  EXPECT_EQ(tiny.block_dim(0), 96);
  EXPECT_EQ(tiny.block_dim(4), 384);
  EXPECT_EQ(tiny.final_dim(), 768);
  EXPECT_EQ(tiny.block_tokens(0), 56 * 56);
  EXPECT_EQ(tiny.block_keys(0), 49);
  EXPECT_EQ(tiny.block_window(0), (AttentionWindow{56, 7, 0}));
  EXPECT_EQ(tiny.block_window(1), (AttentionWindow{56, 7, 3}));
  EXPECT_EQ(tiny.block_window(5), (AttentionWindow{14, 7, 3}));
  EXPECT_EQ(tiny.block_window(11), (AttentionWindow{7, 7, 0}));  // one window: nothing to shift
  EXPECT_EQ(tiny.num_prefix_tokens(), 0);
  const ViTConfig big = named_config("swin_base_patch4_window12_384");
  EXPECT_EQ(big.block_window(23), (AttentionWindow{12, 12, 0}));
  EXPECT_EQ(big.block_window(21), (AttentionWindow{24, 12, 6}));
}

// Feature mimicking trains a front part: patch merging trains with the stage it opens.
TEST(Swin, PatchMergingSitsBeforeTheStageItOpens) {
  const ViTConfig fm = named_config("fm_swin");
  EXPECT_EQ(block_position(fm, "merges.0.reduction.weight"), 6);
  EXPECT_EQ(block_position(fm, "blocks.3.attn.relative_position_bias_table"), 3);
  EXPECT_EQ(block_position(fm, "patch_embed.norm.weight"), -1);
  EXPECT_EQ(block_position(fm, "norm.weight"), -1);
}

TEST(Swin, AnalyticMacsEqualExecutedMultiplyAdds) {
  const ViTConfig dense = small_swin();
  Structure s = dense_structure(dense);
  s.blocks[1].heads.erase(s.blocks[1].heads.begin());  // a head and its bias column go
  s.blocks[1].heads[0].v.resize(3);
  s.blocks[2].mlp.resize(20);
  s.blocks[3] = BlockKeep{true, false, {}, {}, {}};  // a skipped block before a merge
  s.blocks[4].attn_skip = true;
  s.blocks[4].heads.clear();
  VisionTransformer source = make_model(dense, 2);
  test::randomize_parameters(*source, 3);
  source->eval();
  for (VisionTransformer model : {source, slice_model(*source, s)}) {
    const ViTConfig& config = model->config();
    SCOPED_TRACE(config.name);
    model->eval();
    torch::NoGradGuard no_grad;
    const at::Tensor images = torch::randn({2, 3, 56, 56});
    test::CountingForward counter;
    const at::Tensor logits = counter.forward(*model, images);
    EXPECT_LT((logits - model->forward(images)).abs().max().item<double>(), 1e-4);
    EXPECT_EQ(compute_complexity(config).macs(), counter.macs / 2);
  }
}

TEST(Swin, LogitsMatchTheReferenceAndTimmCheckpointsImportByShape) {
  VITC_SKIP_WITHOUT_TORCH();
  const std::string dir = python_temp_dir("swin_torch");
  const ViTConfig config = small_swin();
  VisionTransformer model = make_model(config, 4);
  test::randomize_parameters(*model, 5);
  model->eval();
  const TensorMap weights = state_dict(*model);
  write_safetensors(dir + "/timm.safetensors", timm_layout(weights, config, false));
  write_safetensors(dir + "/original.safetensors", timm_layout(weights, config, true));
  const at::Tensor x = torch::randn({2, 3, 56, 56});
  write_safetensors(dir + "/x.safetensors", {{"images", x}});
  const auto ran = run_python("tests/python/swin_reference.py",
                              dir + "/timm.safetensors " + dir + "/x.safetensors " + dir +
                                  "/ref.safetensors --window 7");
  ASSERT_EQ(ran.exit_code, 0) << ran.output;
  const at::Tensor expected = read_safetensors(dir + "/ref.safetensors").tensors.at("logits");
  torch::NoGradGuard no_grad;
  const at::Tensor logits = model->forward(x);
  EXPECT_LT((logits - expected).abs().max().item<float>(), 1e-4);

  // Both layouts come back with the config (the image size: the last stage is one window).
  for (const char* file : {"timm", "original"}) {
    SCOPED_TRACE(file);
    LoadedModel imported = import_checkpoint(dir + "/" + file + ".safetensors");
    ViTConfig c = imported.model->config();
    EXPECT_EQ(c.name, "swin_imported_d16_w7_l6");
    c.name = config.name;
    EXPECT_EQ(config_to_json(c).dump(), config_to_json(config).dump());
    EXPECT_TRUE(torch::equal(imported.model->forward(x), logits));
  }
}

TEST(Swin, ImportRefusesWrongBuffersAndOtherVariants) {
  const std::string dir = test_support::fresh_dir("swin_import");
  const ViTConfig config = small_swin();
  VisionTransformer model = make_model(config, 4);
  const TensorMap original = timm_layout(state_dict(*model), config, true);
  const auto refusal = [&](const TensorMap& weights) {
    write_safetensors(dir + "/m.safetensors", weights);
    return error_of([&] { import_checkpoint(dir + "/m.safetensors"); });
  };
  TensorMap bad = original;
  bad["layers.0.blocks.1.attn_mask"] = torch::zeros({16, 49, 49});
  EXPECT_NE(refusal(bad).find("'layers.0.blocks.1.attn_mask' is not the shifted-window mask"),
            std::string::npos);
  bad = original;
  bad["layers.1.blocks.0.attn.relative_position_index"] =
      relative_position_index(7).t().contiguous();
  EXPECT_NE(refusal(bad).find("layers.1.blocks.0.attn.relative_position_index"), std::string::npos);
  bad = original;  // mislabelled shapes and an index too long to be a block number
  bad["layers.0.blocks.1.attn_mask"] = torch::zeros({});
  EXPECT_NE(refusal(bad).find("'layers.0.blocks.1.attn_mask' should have 3 dimensions"),
            std::string::npos);
  bad = original;
  bad["layers.1.blocks.0.attn.relative_position_index"] = torch::zeros({49}, torch::kLong);
  EXPECT_NE(refusal(bad).find("relative_position_index' should have 2 dimensions"),
            std::string::npos);
  bad = original;
  bad["layers.99999999999999999999.blocks.0.norm1.weight"] = torch::zeros({16});
  EXPECT_NE(refusal(bad).find("layers.99999999999999999999.blocks.0.norm1.weight"),
            std::string::npos);
  bad = original;
  bad["layers.0.blocks.0.attn.logit_scale"] = torch::zeros({2, 1, 1});
  EXPECT_NE(refusal(bad).find("Swin V2's cosine attention"), std::string::npos);
  // A sidecar naming a Swin of other shapes.
  bad = original;
  std::ofstream(dir + "/config.json") << R"({"architecture": "fm_swin"})";
  EXPECT_NE(refusal(bad).find("names architecture 'fm_swin'"), std::string::npos) << refusal(bad);
}

TEST(Swin, ConfigRefusalsNameTheField) {
  const ViTConfig fm = named_config("fm_swin");
  EXPECT_EQ(config_from_json(config_to_json(fm), "m.json"), fm);
  ViTConfig c = fm;
  c.swin.depths = {6, 3};
  EXPECT_NE(error_of([&] { c.validate(); }).find("swin.depths add up to 9 blocks but the config has 8"),
            std::string::npos);
  c = fm;
  c.swin.window_size = 4;  // 14x14 is not tiled by 4x4 windows
  EXPECT_NE(error_of([&] { c.validate(); }).find("stage 0's 14x14 token grid is not tiled by 4x4"),
            std::string::npos);
  c = fm;
  c.swin.depths = {2, 2, 2, 2};  // 14 -> 7 -> 3.5
  c.blocks.resize(8);
  EXPECT_NE(error_of([&] { c.validate(); }).find("cannot be halved by patch merging into 4 stages"),
            std::string::npos);
  c = fm;
  c.distilled = true;
  EXPECT_NE(error_of([&] { c.validate(); }).find("ViT options a Swin config cannot have"),
            std::string::npos);
  c = fm;
  c.blocks[3].tokens = {0, 1, 2};
  EXPECT_NE(error_of([&] { c.validate(); }).find("blocks[3].tokens: a Swin keeps every token"),
            std::string::npos);
  nlohmann::json j = config_to_json(fm);
  j["swin"]["depths"] = nlohmann::json::array();
  EXPECT_NE(error_of([&] { config_from_json(j, "m.json"); }).find("swin.depths must list at least one stage"),
            std::string::npos);
}

}  // namespace
}  // namespace vitc
