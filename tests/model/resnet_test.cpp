// The ResNet family: parameter counts and MACs against timm's, analytic MACs against the
// multiply-adds a PyTorch reference executes, logits against that reference
// (tests/python/resnet_reference.py), checkpoints imported by shape, compact models equal to their
// masked source and round-tripping through model directories, and what is refused.
#include <algorithm>
#include <filesystem>
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "model/families/resnet/resnet.h"
#include "model/families/resnet/resnet_complexity.h"
#include "model/families/resnet/resnet_model_dir.h"
#include "model/families/resnet/resnet_structure.h"
#include "model/model_dir.h"
#include "model/state_dict.h"
#include "model/timm_import.h"
#include "python/python_test_util.h"
#include "util/error.h"
#include "util/files.h"
#include "test_support.h"

namespace vitc {
namespace {

using namespace vitc::testing;
using test_support::error_of;
using test_support::expect_error;
using test_support::fresh_dir;

// Every parameter and running statistic random, so a BatchNorm tensor that slicing or loading
// forgets changes the logits (init_weights leaves biases at 0 and the last BN of a block at 0).
void randomize(ResNetImpl& model, uint64_t seed) {
  torch::NoGradGuard no_grad;
  at::Generator gen = at::detail::createCPUGenerator(seed);
  for (auto& p : model.named_parameters()) {
    const bool bn_weight = p.key().find("bn") != std::string::npos && p.key().find("weight") != std::string::npos;
    const at::Tensor noise = at::normal(0.0, 0.1, p.value().sizes(), gen);
    p.value().copy_(bn_weight ? 1.0 + noise : noise);
  }
  for (auto& b : model.named_buffers()) {
    if (b.key().find("running_mean") != std::string::npos) {
      b.value().copy_(at::normal(0.0, 0.1, b.value().sizes(), gen));
    } else if (b.key().find("running_var") != std::string::npos) {
      b.value().copy_(at::empty(b.value().sizes()).uniform_(0.5, 1.5, gen));
    }
  }
}

int64_t allocated_parameters(ResNetImpl& model) {
  int64_t n = 0;
  for (const auto& p : model.parameters()) n += p.numel();
  return n;
}

// A small bottleneck ResNet with the ImageNet stem on 64x64 RGB images, with inner widths that
// differ from block to block (as after filter pruning).
ResNetConfig small_bottleneck() {
  ResNetConfig c = named_resnet_config("resnet50");
  c.name = "small_bottleneck";
  c.img_size = 64;
  c.num_classes = 7;
  c.stem_width = 8;
  c.planes = {4, 8, 16};
  c.blocks = {{0, {4, 3}}, {0, {2, 4}}, {1, {8, 5}}, {1, {6, 8}}, {1, {8, 8}}, {2, {16, 9}}};
  c.validate();
  return c;
}

TEST(ResNet, ParametersAndMacsAreTimms) {
  // timm: resnet18 11,689,512, resnet34 21,797,672, resnet50 25,557,032 parameters; conv + fc
  // MACs executed by tests/python/resnet_reference.py on timm's own resnet18/34/50 at 224x224
  // (whose logits it reproduces exactly in float64; docs/cnn.md), about 1.814/3.664/4.089 G as
  // forward hooks count them (shared/design/FAMILIES.md, M2).
  const std::vector<std::tuple<std::string, int64_t, int64_t>> expected = {
      {"resnet18", 11689512, 1814073344}, {"resnet34", 21797672, 3663761408},
      {"resnet50", 25557032, 4089184256}};
  for (const auto& [name, params, macs] : expected) {
    SCOPED_TRACE(name);
    const ResNetConfig config = named_resnet_config(name);
    const ResNetCost cost = resnet_cost(config);
    EXPECT_EQ(cost.params, params);
    EXPECT_EQ(cost.macs, macs);
    ResNet model(config);
    EXPECT_EQ(allocated_parameters(*model), params);
    EXPECT_EQ(state_dict(*model).size(), name == "resnet18" ? 122u : name == "resnet34" ? 218u : 320u);
  }
  ResNet fm(named_resnet_config("fm_resnet"));
  EXPECT_EQ(allocated_parameters(*fm), resnet_cost(fm->config()).params);
  EXPECT_EQ(fm->forward(torch::zeros({2, 1, 28, 28})).sizes(), (std::vector<int64_t>{2, 10}));
}

TEST(ResNet, LogitsAndExecutedMacsMatchTheReferenceAndCheckpointsImportByShape) {
  VITC_SKIP_WITHOUT_TORCH();
  const std::string dir = python_temp_dir("resnet_torch");
  ResNetConfig basic = named_resnet_config("fm_resnet");
  basic.name = "small_basic";
  basic.blocks[1].inner = {5};
  basic.blocks[4].inner = {17};
  for (const ResNetConfig& config : {small_bottleneck(), basic}) {
    SCOPED_TRACE(config.name);
    ResNet model = make_resnet(config, 3);
    randomize(*model, 4);
    model->eval();
    write_safetensors(dir + "/weights.safetensors", state_dict(*model));
    const at::Tensor x = torch::randn({3, config.in_chans, config.img_size, config.img_size});
    write_safetensors(dir + "/x.safetensors", {{"images", x}});
    const auto ran = run_python("tests/python/resnet_reference.py", dir + "/weights.safetensors " +
                                                                        dir + "/x.safetensors " + dir +
                                                                        "/ref.safetensors");
    ASSERT_EQ(ran.exit_code, 0) << ran.output;
    const TensorMap ref = read_safetensors(dir + "/ref.safetensors").tensors;
    torch::NoGradGuard no_grad;
    const at::Tensor logits = model->forward(x);
    EXPECT_LT((logits - ref.at("logits")).abs().max().item<float>(), 1e-4);
    EXPECT_EQ(ref.at("macs").item<int64_t>(), resnet_cost(config).macs);

    LoadedResNet imported = import_resnet_checkpoint(dir + "/weights.safetensors");
    ResNetConfig c = imported.model->config();
    EXPECT_EQ(c.name, str_cat("resnet_imported_", config.block, "_", config.depth()));
    EXPECT_EQ(c.blocks, config.blocks);
    EXPECT_EQ(c.planes, config.planes);
    EXPECT_EQ(c.stem, config.stem);
    imported.model->eval();
    if (c.img_size == config.img_size) {
      EXPECT_TRUE(torch::equal(imported.model->forward(x), logits));
    }
  }
}

TEST(ResNet, ImportRefusesUnknownBlockTensorsByNameAndLoadsOldTorchvisionFiles) {
  const std::string dir = fresh_dir("resnet_import");
  ResNet model = make_resnet(named_resnet_config("fm_resnet"), 1);
  TensorMap weights = state_dict(*model);
  // An SE block's tensors (SE-ResNet): not part of the family's blocks.
  TensorMap se = weights;
  se["layer2.1.se.fc1.weight"] = torch::zeros({4, 32, 1, 1});
  write_safetensors(dir + "/se.safetensors", se);
  expect_error([&] { import_resnet_checkpoint(dir + "/se.safetensors"); },
               {"se.safetensors", "layer2.1.se.fc1.weight"});
  // A deep stem (resnet50d: conv1.0/conv1.3/conv1.6) has no conv1.weight.
  TensorMap deep = weights;
  deep["conv1.0.weight"] = deep.at("conv1.weight");
  deep.erase("conv1.weight");
  write_safetensors(dir + "/deep.safetensors", deep);
  EXPECT_FALSE(is_resnet_state_dict(deep));
  // torchvision files from before BatchNorm counted its batches.
  TensorMap old = weights;
  for (auto it = old.begin(); it != old.end();) {
    it = it->first.find("num_batches_tracked") != std::string::npos ? old.erase(it) : std::next(it);
  }
  write_safetensors(dir + "/old.safetensors", old);
  LoadedResNet loaded = import_resnet_checkpoint(dir + "/old.safetensors");
  EXPECT_EQ(loaded.model->config().name, "fm_resnet");
  EXPECT_EQ(loaded.model->config().img_size, 28);
  // The transformer importer names what it was given.
  write_safetensors(dir + "/resnet.safetensors", weights);
  expect_error([&] { import_checkpoint(dir + "/resnet.safetensors"); }, {"ResNet checkpoint"});
}

TEST(ResNet, CompactModelEqualsTheMaskedSourceAndRoundTrips) {
  for (const ResNetConfig& config : {small_bottleneck(), named_resnet_config("fm_resnet")}) {
    SCOPED_TRACE(config.name);
    ResNet model = make_resnet(config, 5);
    randomize(*model, 6);
    model->eval();
    std::mt19937 rng(7);
    ResNetStructure s = full_resnet_structure(config);
    for (auto& block : s.blocks) {
      for (auto& kept : block.inner) {
        std::shuffle(kept.begin(), kept.end(), rng);
        kept.resize(std::max<size_t>(1, kept.size() / 2));
        std::sort(kept.begin(), kept.end());
      }
    }
    const std::vector<int> candidates = resnet_drop_candidates(config);
    ASSERT_FALSE(candidates.empty());
    s = drop_resnet_blocks(config, s, {candidates.front(), candidates.back()});
    ResNet compact = slice_resnet(*model, s);
    compact->eval();
    EXPECT_EQ(compact->config().depth(), config.depth() - 2);
    EXPECT_LT(resnet_cost(compact->config()).macs, resnet_cost(config).macs);
    EXPECT_EQ(allocated_parameters(*compact), resnet_cost(compact->config()).params);
    const at::Tensor x = torch::randn({2, config.in_chans, config.img_size, config.img_size});
    torch::NoGradGuard no_grad;
    const at::Tensor masked = model->forward(x, &s);
    const at::Tensor sliced = compact->forward(x);
    EXPECT_LT((masked - sliced).abs().max().item<float>(), 1e-5);
    // Dropping nothing and keeping every channel is the model itself.
    const ResNetStructure full = full_resnet_structure(config);
    EXPECT_TRUE(torch::allclose(model->forward(x, &full), model->forward(x), 1e-6, 1e-6));

    const std::string dir = fresh_dir("resnet_dir_" + config.name);
    save_resnet_dir(dir, *compact,
                    {{"structure", resnet_structure_to_json(s)},
                     {"source_config", resnet_config_to_json(config)}});
    LoadedResNet loaded = load_resnet_dir(dir);
    loaded.model->eval();
    EXPECT_EQ(loaded.model->config(), compact->config());
    EXPECT_TRUE(torch::equal(loaded.model->forward(x), sliced));
    EXPECT_EQ(model_family(loaded.model_json, dir), kResNetFamily);
    // A transformer command refuses it by its family.
    expect_error([&] { load_model_dir(dir); }, {"model.json", "\"resnet\"", "Vision Transformers"});
  }
}

TEST(ResNet, RefusesDroppingAStagesFirstBlockAndHostileStructures) {
  const ResNetConfig config = named_resnet_config("resnet34");
  EXPECT_EQ(resnet_drop_candidates(config).size(), 12u);  // PRACTISE's 12 candidates of r34
  expect_error([&] { drop_resnet_blocks(config, full_resnet_structure(config), {config.block_index("layer2.0")}); },
               {"layer2.0", "cannot be dropped", "downsample"});
  EXPECT_EQ(config.block_index("layer3.5"), 12);
  EXPECT_EQ(config.block_name(12), "layer3.5");
  const ResNetConfig fm = named_resnet_config("fm_resnet");
  const std::string where = "model.json";
  nlohmann::json j = resnet_structure_to_json(full_resnet_structure(fm));
  j["blocks"][1]["inner"][0] = {0, 0};
  expect_error([&] { resnet_structure_from_json(j, fm, where, "structure."); },
               {"model.json", "layer1.1", "ascending"});
  j["blocks"][1]["inner"][0] = {99};
  expect_error([&] { resnet_structure_from_json(j, fm, where, "structure."); }, {"layer1.1", "99"});
  j["blocks"][1]["inner"][0] = "all";
  expect_error([&] { resnet_structure_from_json(j, fm, where, "structure."); },
               {"structure.blocks[1].inner[0]"});
  nlohmann::json c = resnet_config_to_json(fm);
  c["blocks"][3]["stage"] = 2;
  expect_error([&] { resnet_config_from_json(c, where, "config."); }, {"model.json", "blocks[3]", "stage"});
  c = resnet_config_to_json(fm);
  c["block"] = "inverted_residual";
  expect_error([&] { resnet_config_from_json(c, where, "config."); }, {"block", "inverted_residual"});
}

TEST(ResNet, ModelDirectoryWhoseWeightsDoNotFitItsConfigIsRefused) {
  const std::string dir = fresh_dir("resnet_mismatch");
  ResNet model = make_resnet(named_resnet_config("fm_resnet"), 1);
  save_resnet_dir(dir, *model);
  nlohmann::json meta = read_json(dir + "/model.json");
  meta["config"]["planes"] = {16, 32, 4096};
  write_json(dir + "/model.json", meta);
  expect_error([&] { load_resnet_dir(dir); }, {"model.json", "does not match the weights"});
  meta["family"] = 3;
  write_json(dir + "/model.json", meta);
  expect_error([&] { load_resnet_dir(dir); }, {"family", "must be a string"});
}

}  // namespace
}  // namespace vitc
