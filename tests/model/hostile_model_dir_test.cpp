// Hostile model directories: every mutated model.json or weights file is refused with a message
// naming the file and the key, before a model of the claimed size is allocated.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "io/safetensors.h"
#include "model/model_dir.h"
#include "model/model_dir_test_util.h"
#include "model/slice.h"
#include "model/state_dict.h"
#include "model/structure.h"
#include "test_support.h"
#include "util/files.h"

namespace vitc {
namespace {

using test_support::expect_error;

// A saved fm_tiny model directory: dense, or compressed (a Structure that drops a head of block 0
// and half the MLP neurons of block 1).
std::string saved_model(const std::string& name, bool compressed) {
  const std::string dir = test_support::fresh_dir(name);
  VisionTransformer model = make_model(named_config("fm_tiny"), 0);
  if (!compressed) {
    save_model_dir(dir, *model);
    return dir;
  }
  Structure s = dense_structure(model->config());
  s.blocks[0].heads.pop_back();
  s.blocks[1].mlp.resize(s.blocks[1].mlp.size() / 2);
  VisionTransformer compact = slice_model(*model, s);
  save_compressed_model_dir(dir, *compact, model->config(), s);
  return dir;
}

using test::expect_refused;

TEST(HostileModelDir, DeeplyNestedValuesAreRefusedBeforeParsing) {
  const std::string dir = saved_model("nested", false);
  const std::string json_path = dir + "/" + kModelJsonFile;
  std::string text = test_support::read_text(json_path);
  const std::string key = "\"embed_dim\": 64";
  const size_t at = text.find(key);
  ASSERT_NE(at, std::string::npos);
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "{\"a\":";
  text.replace(at, key.size(), "\"embed_dim\": " + deep + "1" + std::string(100000, '}'));
  test_support::write_text(json_path, text);
  expect_error([&] { load_model_dir(dir); }, {json_path, "nests deeper than 64 levels"});
}

TEST(HostileModelDir, HugeSizesAreRefusedWithoutAllocating) {
  const std::string dir = saved_model("huge", false);
  expect_refused(dir, [](nlohmann::json& j) { j["config"]["embed_dim"] = 10000000; },
                 {"key 'config.embed_dim' is 10000000", "an integer in [1, 16384]"});
  expect_refused(dir, [](nlohmann::json& j) { j["config"]["blocks"][0]["mlp_hidden"] = 3e7; },
                 {"key 'config.blocks[0].mlp_hidden' is 30000000"});
  // Within the bounds but not the weights' size: refused before the model is built.
  expect_refused(dir, [](nlohmann::json& j) { j["config"]["embed_dim"] = 16384; },
                 {"describes a model of", "holds", "does not match the weights"});
  // A patch count that overflows int (it gave "negative dimension" before).
  expect_refused(dir, [](nlohmann::json& j) {
    j["config"]["img_size"] = 8192;
    j["config"]["patch_size"] = 1;
  }, {"67108864 patches", "more than the supported 65536"});
}

TEST(HostileModelDir, IntegersAreNeverTruncated) {
  const std::string dir = saved_model("ints", false);
  expect_refused(dir, [](nlohmann::json& j) { j["config"]["img_size"] = 28.9; },
                 {"key 'config.img_size' is 28.9"});
  expect_refused(dir, [](nlohmann::json& j) { j["config"]["img_size"] = (1ULL << 32) + 28; },
                 {"key 'config.img_size' is 4294967324"});
  expect_refused(dir, [](nlohmann::json& j) { j["config"]["blocks"][2]["heads"][1]["qk_dim"] = 16.5; },
                 {"key 'config.blocks[2].heads[1].qk_dim' is 16.5"});
  expect_refused(dir, [](nlohmann::json& j) { j["config"]["num_classes"] = -10; },
                 {"key 'config.num_classes' is -10"});
}

TEST(HostileModelDir, InputStatisticsMustBeUsable) {
  const std::string dir = saved_model("stats", false);
  expect_refused(dir, [](nlohmann::json& j) { j["config"]["std"] = {0}; },
                 {"std[0] must be a positive number"});
  expect_refused(dir, [](nlohmann::json& j) { j["config"]["std"] = {-0.5}; },
                 {"std[0] must be a positive number"});
  expect_refused(dir, [](nlohmann::json& j) { j["config"]["mean"] = {nullptr}; },
                 {"key 'config.mean[0]' is null"});
}

TEST(HostileModelDir, CompressedModelsCheckTheirSourceConfigAndStructure) {
  const std::string dir = saved_model("compressed", true);
  ASSERT_NO_THROW(load_model_dir(dir));
  expect_refused(dir, [](nlohmann::json& j) { j["source_config"]["blocks"][0]["heads"][0]["qk_dim"] = 1e9; },
                 {"key 'source_config.blocks[0].heads[0].qk_dim' is 1000000000"});
  expect_refused(dir, [](nlohmann::json& j) { j["structure"]["blocks"][0]["heads"][0]["source"] = 2.5; },
                 {"key 'structure.blocks[0].heads[0].source' is 2.5"});
  expect_refused(dir, [](nlohmann::json& j) { j["structure"]["blocks"][1]["mlp"][0] = (1ULL << 32) + 1; },
                 {"key 'structure.blocks[1].mlp[0]' is 4294967297"});
}

TEST(HostileModelDir, OverflowingNumbersNameTheFile) {
  const std::string dir = saved_model("overflow", false);
  const std::string json_path = dir + "/" + kModelJsonFile;
  std::string text = test_support::read_text(json_path);
  const size_t at = text.find("\"img_size\": 28");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 14, "\"img_size\": 1e999");
  test_support::write_text(json_path, text);
  expect_error([&] { load_model_dir(dir); }, {json_path, "not valid JSON"});
}

TEST(HostileModelDir, IntegerTensorsAreNotWeights) {
  const std::string dir = saved_model("dtype", false);
  const std::string weights_path = dir + "/" + kWeightsFile;
  TensorMap weights = read_safetensors(weights_path).tensors;
  // The same bytes relabelled as I32: converted to float they would be garbage.
  weights["head.weight"] = weights["head.weight"].view(at::kInt);
  write_safetensors(weights_path, weights);
  expect_error([&] { load_model_dir(dir); },
               {weights_path, "wrong dtypes: head.weight (file Int", "expected a float dtype"});
}

}  // namespace
}  // namespace vitc
