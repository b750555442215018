// T2T-ViT: parameter counts against the repository's models, analytic MACs against executed
// multiply-adds, logits against a PyTorch reference written from the repository
// (tests/python/t2t_reference.py), checkpoints in the repository's layout imported by shape,
// and the stem's fixed tensors kept out of training.
#include <cmath>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/complexity.h"
#include "model/counting_forward.h"
#include "model/slice_test_util.h"
#include "model/state_dict.h"
#include "model/timm_import.h"
#include "python/python_test_util.h"
#include "util/error.h"
#include "test_support.h"

namespace vitc {
namespace {

using namespace vitc::testing;

// A small T2T-ViT on 64x64 RGB images with the repository's splits (64 -> 16 -> 8 -> 4).
ViTConfig small_t2t(const std::string& attention) {
  ViTConfig c = make_uniform_config("small_t2t_" + attention, 64, 16, 3, 7, 48, 2, 3, 2.0, false);
  c.stem = "t2t";
  c.t2t.attention = attention;
  c.t2t.token_dim = 16;
  c.qkv_bias = false;
  c.norm_eps = 1e-5;
  return c;
}

int64_t allocated_tensors(VisionTransformerImpl& model) {
  int64_t n = 0;
  for (const auto& t : state_dict(model)) n += t.second.numel();
  return n;
}

TEST(T2T, ParamCountsEqualTheRepository) {
  // sum(p.numel() for p in model.parameters()) of yitu-opensource/T2T-ViT's models (fixed random
  // features and position table included, as its 21.5M), measured with its source and torch
  // 1.13 on 2026-12-06.
  const std::pair<const char*, int64_t> expected[] = {
      {"t2t_vit_7", 4310222},     {"t2t_vit_14", 21545550}, {"t2t_vit_19", 39177422},
      {"t2t_vit_24", 64105934},   {"t2t_vit_t_14", 21541070}};
  for (const auto& [name, params] : expected) {
    EXPECT_EQ(compute_complexity(named_config(name)).params(), params) << name;
  }
  for (const char* name : {"t2t_vit_7", "t2t_vit_t_14", "fm_t2t"}) {
    VisionTransformer model(named_config(name));
    EXPECT_EQ(compute_complexity(named_config(name)).params(), allocated_tensors(*model)) << name;
  }
}

TEST(T2T, FixedTensorsAreBuffersNotParameters) {
  VisionTransformer model = make_model(named_config("fm_t2t"), 1);
  for (const auto& p : model->named_parameters()) {
    EXPECT_NE(p.key().substr(p.key().size() - 2), ".w") << p.key();
    EXPECT_NE(p.key(), "pos_embed");
  }
  const TensorMap tensors = state_dict(*model);
  EXPECT_EQ(tensors.count("pos_embed"), 1u);
  EXPECT_EQ(tensors.count("tokens_to_token.attention1.w"), 1u);
  // The position table: row p, column 2i = sin(p / 10000^(2i/D)), column 2i+1 its cos.
  const int64_t D = 64;
  EXPECT_NEAR(model->pos_embed[0][5][6].item<double>(), std::sin(5 / std::pow(10000.0, 6.0 / D)), 1e-6);
  EXPECT_NEAR(model->pos_embed[0][5][7].item<double>(), std::cos(5 / std::pow(10000.0, 6.0 / D)), 1e-6);
  // Random features: orthogonal rows of norm sqrt(m).
  const at::Tensor w = model->tokens_to_token->attentions[0]->as<TokenPerformerImpl>()->w;
  const int64_t m = w.size(0);
  EXPECT_TRUE(torch::allclose(torch::matmul(w, w.t()), torch::eye(m) * m, 1e-4, 1e-3));
}

TEST(T2T, AnalyticMacsEqualExecutedMultiplyAdds) {
  for (const ViTConfig& config : {named_config("fm_t2t"), small_t2t("performer"),
                                  small_t2t("transformer")}) {
    SCOPED_TRACE(config.name);
    VisionTransformer model = make_model(config, 2);
    test::randomize_parameters(*model, 3);
    model->eval();
    torch::NoGradGuard no_grad;
    const at::Tensor images = torch::randn({2, config.in_chans, config.img_size, config.img_size});
    test::CountingForward counter;
    const at::Tensor logits = counter.forward(*model, images);
    EXPECT_TRUE(torch::allclose(logits, model->forward(images), 1e-4, 1e-5));
    EXPECT_EQ(compute_complexity(config).macs(), counter.macs / 2);
  }
  // T2T-ViT-14 at 224: 4.8 GMACs in its paper (ours count matmuls only).
  EXPECT_NEAR(compute_complexity(named_config("t2t_vit_14")).macs() / 1e9, 4.8, 0.25);
}

TEST(T2T, LogitsMatchTheReferenceAndCheckpointsImportByShape) {
  VITC_SKIP_WITHOUT_TORCH();
  const std::string dir = python_temp_dir("t2t_torch");
  for (const std::string attention : {"performer", "transformer"}) {
    SCOPED_TRACE(attention);
    const ViTConfig config = small_t2t(attention);
    VisionTransformer model = make_model(config, 4);
    test::randomize_parameters(*model, 5);
    model->eval();
    TensorMap weights;
    for (const auto& [k, v] : state_dict(*model)) weights[k] = v.clone();
    write_safetensors(dir + "/w.safetensors", weights);
    const at::Tensor x = torch::randn({3, 3, 64, 64});
    write_safetensors(dir + "/x.safetensors", {{"images", x}});
    const auto ran = run_python("tests/python/t2t_reference.py",
                                dir + "/w.safetensors " + dir + "/x.safetensors " + dir +
                                    "/ref.safetensors --heads 3 --attn-scale " +
                                    std::to_string(config.blocks[0].attn_scale));
    ASSERT_EQ(ran.exit_code, 0) << ran.output;
    const at::Tensor expected = read_safetensors(dir + "/ref.safetensors").tensors.at("logits");
    torch::NoGradGuard no_grad;
    EXPECT_LT((model->forward(x) - expected).abs().max().item<float>(), 1e-4);

    // The same tensors as a checkpoint: the config comes back from the shapes (the scale is the
    // released weights' embed_dim^-0.5; with a sidecar naming the heads).
    std::ofstream(dir + "/config.json") << R"({"num_heads": 3})";
    const LoadedModel imported = import_checkpoint(dir + "/w.safetensors");
    const ViTConfig& c = imported.model->config();
    EXPECT_TRUE(c.is_t2t());
    EXPECT_EQ(c.t2t, config.t2t);
    EXPECT_EQ(c.img_size, 64);
    EXPECT_EQ(c.in_chans, 3);
    EXPECT_EQ(c.blocks[0].heads.size(), 3u);
    EXPECT_FALSE(c.qkv_bias);
    EXPECT_DOUBLE_EQ(c.blocks[0].attn_scale, 1.0 / std::sqrt(48.0));
    std::filesystem::remove(dir + "/config.json");
  }
}

TEST(T2T, NamedT2tVit14IsRecognisedAndConfigRoundTrips) {
  const ViTConfig c = named_config("t2t_vit_14");
  EXPECT_EQ(config_from_json(config_to_json(c), "test"), c);
  ViTConfig bad = c;
  bad.t2t.splits[1].stride = 0;
  EXPECT_NE(test_support::error_of([&] { bad.validate(); }).find("t2t.splits[1]"), std::string::npos);
  bad = c;
  bad.patch_size = 8;
  EXPECT_NE(test_support::error_of([&] { bad.validate(); }).find("product of the t2t strides"),
            std::string::npos);
  bad = c;
  bad.t2t.attention = "conv";
  EXPECT_NE(test_support::error_of([&] { bad.validate(); }).find("t2t.attention"), std::string::npos);
}

}  // namespace
}  // namespace vitc
