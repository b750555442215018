// The Python module python/vitc_torch.py: it rebuilds compressed vitc models (uneven heads,
// heads with fewer v than q/k dims, skipped blocks, removed attention or MLP branches, dropped
// tokens, a distillation head; DeiT III, T2T-ViT and Swin models; block-dropped and filter-pruned
// ResNets) as torch.nn.Modules whose logits
// equal vitc's, and exports them to ONNX, which ONNX Runtime runs to the same logits.
#include <filesystem>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "io/safetensors.h"
#include "model/families/resnet/resnet_model_dir.h"
#include "model/families/resnet/resnet_structure.h"
#include "model/model_dir.h"
#include "model/slice.h"
#include "model/slice_test_util.h"
#include "python/python_test_util.h"
#include "util/files.h"

namespace vitc {
namespace {

using namespace vitc::testing;

std::vector<int> range(int begin, int end) {
  std::vector<int> out;
  for (int i = begin; i < end; ++i) out.push_back(i);
  return out;
}

// Slices `model` to `s`, saves the compact model in `dir` with a batch of 3 random 32x32 RGB
// images (images.safetensors) and returns its logits on them through `logits`.
std::string save_compact_with_logits(const std::string& dir, VisionTransformerImpl& model,
                                     const ViTConfig& source, const Structure& s,
                                     at::Tensor& images, at::Tensor& logits) {
  VisionTransformer compact = slice_model(model, s);
  save_compressed_model_dir(dir, *compact, source, s);
  images = at::randn({3, 3, 32, 32});
  torch::NoGradGuard no_grad;
  compact->eval();
  logits = compact->forward(images);
  write_safetensors(dir + "/images.safetensors", {{"images", images}});
  return dir;
}

// A distilled 4-block model (4 heads of 16) compressed in every way a Structure allows. Family
// "deit3" adds DeiT III's LayerScale (gammas away from their init) and patch-only position
// embedding; "t2t" has T2T-ViT's Performer tokens-to-token stem (32x32 -> 8x8 tokens).
std::string write_compressed_model(const std::string& dir, at::Tensor& images, at::Tensor& logits,
                                   const std::string& family = "vit") {
  const bool deit3 = family == "deit3";
  ViTConfig source = make_uniform_config("py_src", 32, 8, 3, 5, 64, 4, 4, 2.0, true);
  source.layer_scale = source.no_embed_class = deit3;
  if (family == "t2t") {
    source.stem = "t2t";
    source.patch_size = 4;
    source.t2t.token_dim = 16;
    source.t2t.splits = {{3, 2, 1}, {3, 1, 1}, {3, 2, 1}};
  }
  VisionTransformer model = make_model(source, 11);
  if (deit3) {
    torch::NoGradGuard no_grad;
    for (auto& p : model->named_parameters()) {
      if (p.key().find(".gamma") != std::string::npos) p.value().normal_(1.0, 0.5);
    }
  }
  Structure s = dense_structure(source);
  // Block 0: three heads of three shapes, in a shuffled order, and half the MLP.
  s.blocks[0].heads = {HeadKeep{2, range(0, 8), range(0, 16)}, HeadKeep{0, range(0, 16), range(4, 8)},
                       HeadKeep{3, range(0, 16), range(0, 16)}};
  s.blocks[0].mlp.clear();
  for (int i = 1; i < 128; i += 2) s.blocks[0].mlp.push_back(i);
  // Block 1 skipped; block 2 without attention; block 3 without MLP.
  s.blocks[1] = BlockKeep{true, false, {}, {}, {}};
  s.blocks[2].attn_skip = true;
  s.blocks[2].heads.clear();
  s.blocks[3].mlp.clear();
  // Token pruning: 11 of the 16 patches from block 1 (skipped) on, 4 from block 3 on.
  s.blocks[1].tokens = {0, 1, 3, 4, 6, 7, 9, 10, 12, 13, 15};
  s.blocks[3].tokens = {1, 6, 10, 15};
  return save_compact_with_logits(dir, *model, source, s, images, logits);
}

// A Swin on 32x32 images (16x16 tokens in 4x4 windows, shifted in block 1; merged to 8x8, shifted
// in block 3) compressed: uneven heads, a head removed with its bias column, a skipped block, a
// block without MLP.
std::string write_compressed_swin(const std::string& dir, at::Tensor& images, at::Tensor& logits) {
  ViTConfig source = named_config("fm_swin");
  source.name = "py_swin";
  source.img_size = 32;
  source.in_chans = 3;
  source.num_classes = 5;
  source.mean = source.std = {0.5, 0.5, 0.5};
  source.swin = SwinSpec{4, {2, 2}};
  for (size_t i = 2; i < source.blocks.size(); ++i) source.blocks[i] = source.blocks.back();
  source.blocks.resize(4);
  VisionTransformer model = make_model(source, 12);
  test::randomize_parameters(*model, 13);
  Structure s = dense_structure(source);
  s.blocks[0].heads = {HeadKeep{1, range(0, 16), range(0, 5)}, HeadKeep{0, range(3, 16), range(0, 16)}};
  s.blocks[1].mlp.resize(50);
  s.blocks[2] = BlockKeep{true, false, {}, {}, {}};
  s.blocks[3].heads.erase(s.blocks[3].heads.begin() + 1);
  s.blocks[3].mlp.clear();
  return save_compact_with_logits(dir, *model, source, s, images, logits);
}

// A bottleneck ResNet on 32x32 images (ImageNet stem: 8x8 maps after it) with random BatchNorm
// statistics, a block dropped and inner channels pruned.
std::string write_compressed_resnet(const std::string& dir, at::Tensor& images, at::Tensor& logits) {
  ResNetConfig source = named_resnet_config("resnet50");
  source.name = "py_resnet";
  source.img_size = 32;
  source.num_classes = 5;
  source.stem_width = 8;
  source.planes = {4, 8};
  source.blocks = {{0, {4, 4}}, {0, {4, 4}}, {1, {8, 8}}, {1, {8, 8}}};
  ResNet model = make_resnet(source, 14);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) p.normal_(0.0, 0.3);
    for (auto& b : model->named_buffers()) {
      if (b.key().find("running_var") != std::string::npos) b.value().uniform_(0.5, 1.5);
      if (b.key().find("running_mean") != std::string::npos) b.value().normal_(0.0, 0.2);
    }
  }
  ResNetStructure s = drop_resnet_blocks(source, full_resnet_structure(source), {1});
  s.blocks[2].inner = {{0, 3, 5}, {1, 2, 4, 7}};
  ResNet compact = slice_resnet(*model, s);
  save_resnet_dir(dir, *compact, {{"structure", resnet_structure_to_json(s)},
                                  {"source_config", resnet_config_to_json(source)}});
  images = at::randn({3, 3, 32, 32});
  torch::NoGradGuard no_grad;
  compact->eval();
  logits = compact->forward(images);
  write_safetensors(dir + "/images.safetensors", {{"images", images}});
  return dir;
}

std::string write_model_of_family(const std::string& dir, at::Tensor& images, at::Tensor& logits,
                                  const std::string& family) {
  if (family == "resnet") return write_compressed_resnet(dir, images, logits);
  return family == "swin" ? write_compressed_swin(dir, images, logits)
                          : write_compressed_model(dir, images, logits, family);
}

// ONNX Runtime, what users deploy with, computes vitc's logits from <dir>/model.onnx.
void expect_onnx_runtime_logits(const std::string& dir, const at::Tensor& logits) {
  const auto ort = run_onnxruntime(dir + "/model.onnx", dir + "/model/images.safetensors",
                                   dir + "/ort_logits.json");
  ASSERT_EQ(ort.exit_code, 0) << "ONNX Runtime (scripts/setup.sh installs it): " << ort.output;
  const nlohmann::json result = read_json(dir + "/ort_logits.json");
  ASSERT_EQ(result["dims"].get<std::vector<int64_t>>(), logits.sizes().vec());
  const at::Tensor ort_logits =
      at::tensor(result["data"].get<std::vector<float>>()).reshape(logits.sizes());
  EXPECT_LT((ort_logits - logits).abs().max().item<float>(), 1e-4);
}

TEST(PythonModule, RebuildsCompressedModelsWithVitcLogits) {
  VITC_SKIP_WITHOUT_TORCH();
  for (const std::string family : {"vit", "deit3", "t2t", "swin", "resnet"}) {
    SCOPED_TRACE(family);
    const std::string dir = python_temp_dir("module_" + family);
    at::Tensor images, logits;
    write_model_of_family(dir + "/model", images, logits, family);
    if (family == "resnet") {
      ASSERT_TRUE(load_resnet_dir(dir + "/model").model);  // a valid compressed directory
    } else {
      ASSERT_TRUE(load_model_dir(dir + "/model").model);
    }
    const auto ran = run_python("python/vitc_torch.py", "logits " + dir + "/model " + dir +
                                                            "/model/images.safetensors " + dir +
                                                            "/torch_logits.safetensors");
    ASSERT_EQ(ran.exit_code, 0) << ran.output;
    const at::Tensor got =
        read_safetensors(dir + "/torch_logits.safetensors").tensors.at("logits");
    ASSERT_EQ(got.sizes(), logits.sizes());
    EXPECT_LT((got - logits).abs().max().item<float>(), 1e-5);
  }
}

TEST(PythonModule, ExportsDeit3T2tSwinAndResNetToOnnx) {
  VITC_SKIP_WITHOUT_TORCH();
  for (const std::string family : {"deit3", "t2t", "swin", "resnet"}) {
    SCOPED_TRACE(family);
    const std::string dir = python_temp_dir("onnx_" + family);
    at::Tensor images, logits;
    write_model_of_family(dir + "/model", images, logits, family);
    const auto ran =
        run_python("python/vitc_torch.py", "onnx " + dir + "/model " + dir + "/model.onnx");
    ASSERT_EQ(ran.exit_code, 0) << ran.output;
    expect_onnx_runtime_logits(dir, logits);
  }
}

TEST(PythonModule, ExportsToOnnx) {
  VITC_SKIP_WITHOUT_TORCH();
  const std::string dir = python_temp_dir("onnx");
  at::Tensor images, logits;
  write_compressed_model(dir + "/model", images, logits);
  const auto ran =
      run_python("python/vitc_torch.py", "onnx " + dir + "/model " + dir + "/model.onnx");
  ASSERT_EQ(ran.exit_code, 0) << ran.output;
  ASSERT_TRUE(std::filesystem::exists(dir + "/model.onnx"));
  EXPECT_GT(std::filesystem::file_size(dir + "/model.onnx"), 50000u);  // the weights are inside
  expect_onnx_runtime_logits(dir, logits);
  // With the onnx package (Debian's python3-onnx), the graph is checked and its interface read.
  const auto checked = run_python("tests/python/check_onnx.py", dir + "/model.onnx");
  if (checked.exit_code == 3) GTEST_SKIP() << "python onnx package not installed: " << checked.output;
  ASSERT_EQ(checked.exit_code, 0) << checked.output;
  EXPECT_NE(checked.output.find("images ['batch', 3, 32, 32] -> logits ['batch', 5]"),
            std::string::npos)
      << checked.output;
}

}  // namespace
}  // namespace vitc
