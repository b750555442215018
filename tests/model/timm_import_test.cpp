// Importing timm/DeiT checkpoints: configs inferred from shapes (custom sizes, the named DeiT
// configs, distilled, DeiT III's LayerScale and patch-only position embedding), sidecars, F16 and "module." keys, hub folders, unsupported architectures
// refused by name; logits equal to a PyTorch implementation of timm's forward; .pth files
// (LibTorch where it can, else the documented converter).
#include "model/timm_import.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "model/state_dict.h"
#include "python/python_test_util.h"
#include "util/error.h"
#include "test_support.h"

namespace vitc {
namespace {

using namespace vitc::testing;

using test_support::error_of;

ViTConfig custom(bool distilled = false) {
  // No named config has these shapes: heads come from the 64-wide rule (128 / 64 = 2).
  return make_uniform_config("custom", 32, 8, 3, 7, 128, 2, 2, 3.0, distilled);
}

TensorMap weights_of(VisionTransformerImpl& model) {
  TensorMap out;
  for (const auto& [k, v] : state_dict(model)) out[k] = v.clone();
  return out;
}

at::Tensor images_for(const ViTConfig& c, int64_t n = 3) {
  return at::randn({n, c.in_chans, c.img_size, c.img_size}, at::TensorOptions().dtype(at::kFloat));
}

at::Tensor logits_of(VisionTransformerImpl& model, const at::Tensor& images) {
  torch::NoGradGuard no_grad;
  model.eval();
  return model.forward(images);
}

TEST(TimmImport, CustomSizesAreInferredFromShapes) {
  const std::string dir = python_temp_dir("timm_custom");
  VisionTransformer model = make_model(custom(), 1);
  write_safetensors(dir + "/model.safetensors", weights_of(*model));
  LoadedModel loaded = load_model_spec(dir + "/model.safetensors", 0);
  const ViTConfig& c = loaded.model->config();
  EXPECT_EQ(c.img_size, 32);
  EXPECT_EQ(c.patch_size, 8);
  EXPECT_EQ(c.embed_dim, 128);
  EXPECT_EQ(c.num_classes, 7);
  EXPECT_EQ(c.depth(), 2);
  EXPECT_EQ(c.blocks[1].heads.size(), 2u);
  EXPECT_EQ(c.blocks[1].mlp_hidden, 384);
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_FALSE(c.distilled);
  EXPECT_EQ(c.blocks, model->config().blocks);
  EXPECT_EQ(loaded.model_json["imported_from"]["config"].get<std::string>().find("head width 64") !=
                std::string::npos,
            true);
  const at::Tensor x = images_for(c);
  EXPECT_TRUE(logits_of(*loaded.model, x).equal(logits_of(*model, x)));
  // A downloaded hub folder (model.safetensors, no model.json) loads the same way.
  EXPECT_TRUE(logits_of(*load_model_spec(dir, 0).model, x).equal(logits_of(*model, x)));
}

TEST(TimmImport, NamedDeitConfigsAreRecognised) {
  const std::string dir = python_temp_dir("timm_named");
  for (const std::string name : {"deit_tiny_patch16_224", "deit_tiny_distilled_patch16_224"}) {
    VisionTransformer model = make_model(named_config(name), 2);
    write_safetensors(dir + "/" + name + ".safetensors", weights_of(*model));
    LoadedModel loaded = import_checkpoint(dir + "/" + name + ".safetensors");
    EXPECT_EQ(loaded.model->config(), named_config(name)) << name;
    const at::Tensor x = images_for(loaded.model->config(), 1);
    EXPECT_TRUE(logits_of(*loaded.model, x).equal(logits_of(*model, x))) << name;
  }
}

TEST(TimmImport, HalfPrecisionModulePrefixAndDistillation) {
  const std::string dir = python_temp_dir("timm_half");
  VisionTransformer model = make_model(custom(true), 3);
  TensorMap half;
  for (const auto& [k, v] : weights_of(*model)) half["module." + k] = v.to(at::kHalf);
  write_safetensors(dir + "/ddp.safetensors", half);
  LoadedModel loaded = import_checkpoint(dir + "/ddp.safetensors");
  EXPECT_TRUE(loaded.model->config().distilled);
  // The reference: the same weights rounded to half precision.
  TensorMap rounded;
  for (const auto& [k, v] : weights_of(*model)) rounded[k] = v.to(at::kHalf).to(at::kFloat);
  load_state_dict(*model, rounded, "rounded");
  const at::Tensor x = images_for(model->config());
  EXPECT_TRUE(logits_of(*loaded.model, x).allclose(logits_of(*model, x), 1e-5, 1e-5));
}

TEST(TimmImport, SidecarGivesHeadsStatisticsAndCrop) {
  const std::string dir = python_temp_dir("timm_sidecar");
  VisionTransformer model = make_model(custom(), 4);
  write_safetensors(dir + "/model.safetensors", weights_of(*model));
  std::ofstream(dir + "/config.json")
      << R"({"architecture": "vit_custom_patch8_32", "num_classes": 7, "model_args": {"num_heads": 4},
             "pretrained_cfg": {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5], "crop_pct": 0.9}})";
  LoadedModel loaded = import_checkpoint(dir + "/model.safetensors");
  const ViTConfig& c = loaded.model->config();
  EXPECT_EQ(c.name, "vit_custom_patch8_32");
  EXPECT_EQ(c.blocks[0].heads.size(), 4u);
  EXPECT_EQ(c.blocks[0].heads[0].qk_dim, 32);
  EXPECT_EQ(c.mean, (std::vector<double>{0.5, 0.5, 0.5}));
  EXPECT_DOUBLE_EQ(loaded.model_json["preprocess"]["crop_pct"].get<double>(), 0.9);

  std::ofstream(dir + "/config.json") << R"({"architecture": "deit_small_patch16_224"})";
  const std::string message = error_of([&] { import_checkpoint(dir + "/model.safetensors"); });
  EXPECT_NE(message.find("names architecture 'deit_small_patch16_224'"), std::string::npos) << message;
  std::ofstream(dir + "/config.json") << R"({"num_heads": "six"})";
  EXPECT_NE(error_of([&] { import_checkpoint(dir + "/model.safetensors"); }).find("num_heads"),
            std::string::npos);
}

TEST(TimmImport, UnsupportedArchitecturesAreRefusedByName) {
  const std::string dir = python_temp_dir("timm_unsupported");
  VisionTransformer model = make_model(custom(), 5);
  const TensorMap good = weights_of(*model);
  auto import_with = [&](TensorMap w, const std::string& json = "") {
    std::filesystem::remove(dir + "/config.json");
    if (!json.empty()) std::ofstream(dir + "/config.json") << json;
    write_safetensors(dir + "/m.safetensors", w);
    return error_of([&] { import_checkpoint(dir + "/m.safetensors"); });
  };
  TensorMap w = good;
  w["blocks.0.gamma_1"] = at::ones({128});
  std::string message = import_with(w, R"({"architecture": "beit_base_patch16_224"})");
  EXPECT_NE(message.find("architecture 'beit_base_patch16_224' is not supported"), std::string::npos)
      << message;
  EXPECT_NE(message.find("LayerScale (BEiT)"), std::string::npos) << message;
  EXPECT_NE(message.find("blocks.0.gamma_1"), std::string::npos) << message;

  w = good;
  w["fc_norm.weight"] = at::ones({128});
  EXPECT_NE(import_with(w).find("global-average-pool"), std::string::npos);

  message = import_with({{"vit.embeddings.cls_token", at::zeros({1, 1, 8})},
                         {"vit.encoder.layer.0.attention.attention.query.weight", at::zeros({8, 8})}});
  EXPECT_NE(message.find("transformers"), std::string::npos) << message;

  message = import_with({{"conv1.weight", at::zeros({8, 3, 7, 7})}, {"fc.weight", at::zeros({10, 8})}});
  EXPECT_NE(message.find("not a timm ViT/DeiT checkpoint"), std::string::npos) << message;
  EXPECT_NE(message.find("patch_embed.proj.weight"), std::string::npos) << message;

  w = good;
  w.erase("head.weight");
  w.erase("head.bias");
  EXPECT_NE(import_with(w).find("'head.weight' is missing"), std::string::npos);

  w = good;
  w["pos_embed"] = at::zeros({1, 15, 128});  // neither 1 + a square grid nor a square grid
  message = import_with(w);
  EXPECT_NE(message.find("pos_embed has 15 positions"), std::string::npos) << message;
  EXPECT_NE(message.find("no_embed_class"), std::string::npos) << message;

  w = good;
  w["blocks.1.mlp.fc2.weight"] = at::zeros({128, 100});
  message = import_with(w);
  EXPECT_NE(message.find("blocks.1.mlp.fc2.weight"), std::string::npos) << message;

  VisionTransformer odd = make_model(make_uniform_config("odd", 32, 8, 3, 7, 96, 1, 3, 2.0, false), 1);
  message = import_with(weights_of(*odd));
  EXPECT_NE(message.find("cannot tell the number of heads"), std::string::npos) << message;
  std::ofstream(dir + "/config.json") << R"({"num_heads": 3})";  // the sidecar settles it
  write_safetensors(dir + "/m.safetensors", weights_of(*odd));
  EXPECT_NO_THROW(import_checkpoint(dir + "/m.safetensors"));
}

// A DeiT III-style custom model: LayerScale, patch-only position embedding, and gammas far
// from their 1e-6 init (at the init every block would be close to the identity).
ViTConfig custom_deit3() {
  ViTConfig c = custom();
  c.name = "custom_deit3";
  c.layer_scale = true;
  c.no_embed_class = true;
  return c;
}

VisionTransformer deit3_model(uint64_t seed) {
  VisionTransformer model = make_model(custom_deit3(), seed);
  torch::NoGradGuard no_grad;
  for (auto& p : model->named_parameters()) {
    if (p.key().find(".gamma") != std::string::npos) p.value().normal_(1.0, 0.5);
  }
  model->pos_embed.normal_(0.0, 0.5);
  return model;
}

TEST(TimmImport, LayerScaleAndPatchOnlyPositionsAreInferred) {
  const std::string dir = python_temp_dir("timm_deit3");
  VisionTransformer model = deit3_model(8);
  TensorMap w = weights_of(*model);
  EXPECT_EQ(w.at("pos_embed").size(1), 16);  // 4 x 4 patches, no class position
  EXPECT_EQ(w.count("blocks.1.ls2.gamma"), 1u);
  write_safetensors(dir + "/model.safetensors", w);
  LoadedModel loaded = import_checkpoint(dir + "/model.safetensors");
  const ViTConfig& c = loaded.model->config();
  EXPECT_TRUE(c.layer_scale);
  EXPECT_TRUE(c.no_embed_class);
  EXPECT_EQ(c.img_size, 32);
  EXPECT_EQ(c.blocks, model->config().blocks);
  const at::Tensor x = images_for(c);
  EXPECT_TRUE(logits_of(*loaded.model, x).equal(logits_of(*model, x)));
  // The named DeiT III configs are recognised by shape.
  VisionTransformer small = make_model(named_config("deit3_small_patch16_224"), 2);
  write_safetensors(dir + "/deit3_small.safetensors", weights_of(*small));
  EXPECT_EQ(import_checkpoint(dir + "/deit3_small.safetensors").model->config(),
            named_config("deit3_small_patch16_224"));
  // LayerScale in some blocks only: the strict load names the missing tensor.
  w.erase("blocks.1.ls2.gamma");
  write_safetensors(dir + "/partial.safetensors", w);
  const std::string message = error_of([&] { import_checkpoint(dir + "/partial.safetensors"); });
  EXPECT_NE(message.find("blocks.1.ls2.gamma"), std::string::npos) << message;
}

TEST(TimmImport, LogitsMatchPyTorch) {
  VITC_SKIP_WITHOUT_TORCH();
  const std::string dir = python_temp_dir("timm_torch");
  for (int variant : {0, 1, 2}) {  // ViT, distilled DeiT, DeiT III
    const bool distilled = variant == 1;
    VisionTransformer model = variant == 2 ? deit3_model(6) : make_model(custom(distilled), 6);
    write_safetensors(dir + "/w.safetensors", weights_of(*model));
    const at::Tensor x = images_for(model->config(), 4);
    write_safetensors(dir + "/x.safetensors", {{"images", x}});
    const auto ran = run_python("tests/python/timm_reference.py",
                                dir + "/w.safetensors " + dir + "/x.safetensors " + dir +
                                    "/ref.safetensors --heads 2");
    ASSERT_EQ(ran.exit_code, 0) << ran.output;
    const at::Tensor expected = read_safetensors(dir + "/ref.safetensors").tensors.at("logits");
    LoadedModel loaded = import_checkpoint(dir + "/w.safetensors");
    const at::Tensor got = logits_of(*loaded.model, x);
    ASSERT_EQ(got.sizes(), expected.sizes());
    EXPECT_LT((got - expected).abs().max().item<float>(), 1e-4) << "variant " << variant;
  }
}

TEST(TimmImport, PthCheckpointsLoadOrPointToTheConverter) {
  VITC_SKIP_WITHOUT_TORCH();
  const std::string dir = python_temp_dir("timm_pth");
  VisionTransformer model = make_model(custom(), 7);
  write_safetensors(dir + "/w.safetensors", weights_of(*model));
  const at::Tensor x = images_for(model->config());
  const at::Tensor expected = logits_of(*model, x);
  {  // The zip format of torch.save, wrapped as the official DeiT files: {"model": state_dict}.
    const std::string pth = dir + "/deit.pth";
    auto ran = run_python("tests/python/make_pth.py", dir + "/w.safetensors " + pth + " --wrap model");
    ASSERT_EQ(ran.exit_code, 0) << ran.output;
    const std::string message = error_of([&] {
      EXPECT_TRUE(logits_of(*import_checkpoint(pth).model, x).equal(expected));  // LibTorch >= 2
    });
    if (!message.empty()) {  // LibTorch 1.13 cannot unpickle state dicts: the error says what to do
      EXPECT_NE(message.find(pth), std::string::npos) << message;
      EXPECT_NE(message.find("pth_to_safetensors.py"), std::string::npos) << message;
    }
    ran = run_python("python/pth_to_safetensors.py", pth + " " + dir + "/converted.safetensors");
    ASSERT_EQ(ran.exit_code, 0) << ran.output;
    EXPECT_TRUE(logits_of(*import_checkpoint(dir + "/converted.safetensors").model, x).equal(expected));
  }
  // A plain state dict in the legacy (pre-zip) format: LibTorch cannot read it; the converter can.
  auto ran = run_python("tests/python/make_pth.py", dir + "/w.safetensors " + dir + "/legacy.pth --legacy");
  ASSERT_EQ(ran.exit_code, 0) << ran.output;
  EXPECT_NE(error_of([&] { import_checkpoint(dir + "/legacy.pth"); }).find("pth_to_safetensors.py"),
            std::string::npos);
  ran = run_python("python/pth_to_safetensors.py",
                   dir + "/legacy.pth " + dir + "/legacy.safetensors");
  ASSERT_EQ(ran.exit_code, 0) << ran.output;
  EXPECT_TRUE(logits_of(*import_checkpoint(dir + "/legacy.safetensors").model, x).equal(expected));
}

}  // namespace
}  // namespace vitc
