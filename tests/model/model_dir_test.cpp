// Model directories: save -> load -> same logits; every mismatch reported by name.
#include <filesystem>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "test_support.h"
#include "model/model_dir.h"
#include "model/state_dict.h"
#include "util/error.h"
#include "util/files.h"

namespace vitc {
namespace {

using vitc::test_support::absent_dir;

TEST(ModelDir, RoundTripGivesSameLogits) {
  ViTConfig config = make_uniform_config("uneven", 28, 7, 1, 10, 32, 3, 4, 2.0, true);
  config.blocks[0].heads = {{8, 3}, {2, 8}, {8, 8}};
  config.blocks[1].skip = true;
  config.blocks[2].attn_skip = true;
  config.blocks[2].heads.clear();
  VisionTransformer model = make_model(config, 3);
  const std::string dir = absent_dir("roundtrip");
  save_model_dir(dir, *model, {{"note", "hello"}});
  LoadedModel loaded = load_model_dir(dir);
  EXPECT_EQ(loaded.model->config(), config);
  EXPECT_EQ(loaded.model_json["note"], "hello");
  const at::Tensor x = torch::randn({2, 1, 28, 28});
  EXPECT_TRUE(torch::equal(model->forward(x), loaded.model->forward(x)));
}

TEST(ModelDir, MismatchedWeightsReportEveryKey) {
  VisionTransformer model = make_model(named_config("fm_tiny"), 0);
  TensorMap weights = state_dict(*model);
  weights.erase("blocks.0.attn.qkv.weight");
  weights["blocks.9.mlp.fc1.weight"] = torch::zeros({2});
  weights["head.weight"] = torch::zeros({3, 64});
  try {
    load_state_dict(*model, weights, "x.safetensors");
    FAIL() << "expected vitc::Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("x.safetensors"), std::string::npos) << msg;
    EXPECT_NE(msg.find("missing keys: blocks.0.attn.qkv.weight"), std::string::npos) << msg;
    EXPECT_NE(msg.find("unexpected keys: blocks.9.mlp.fc1.weight"), std::string::npos) << msg;
    EXPECT_NE(msg.find("head.weight (file [3, 64], model [10, 64])"), std::string::npos) << msg;
  }
}

TEST(ModelDir, BadModelJsonNamesFileAndKey) {
  VisionTransformer model = make_model(named_config("fm_tiny"), 0);
  const std::string dir = absent_dir("badjson");
  save_model_dir(dir, *model);
  nlohmann::json meta = read_json(dir + "/model.json");
  meta["config"]["blocks"][1].erase("mlp_hidden");
  write_json(dir + "/model.json", meta);
  try {
    load_model_dir(dir);
    FAIL() << "expected vitc::Error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("model.json"), std::string::npos) << msg;
    EXPECT_NE(msg.find("blocks[1].mlp_hidden"), std::string::npos) << msg;
  }
}

TEST(ModelDir, MissingDirectoryOrUnknownNameIsAnError) {
  EXPECT_THROW(load_model_dir("/nonexistent/vitc_model"), Error);
  try {
    load_model_spec("not_a_model", 0);
    FAIL() << "expected vitc::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("deit_tiny_patch16_224"), std::string::npos);
  }
}

}  // namespace
}  // namespace vitc
