// The CUDA path against the CPU, in one process: forward passes with and without masks, the
// slicing contract, masks made on the device, evaluation, a few training steps, bf16 autocast,
// and the data-parallel buckets on CUDA tensors. Every test skips where LibTorch sees no GPU
// (tests/cuda/cuda_test_util.h).
#include <cstdio>
#include <filesystem>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/clone_model.h"
#include "compress/common/feature_mimic.h"
#include "compress/tiny_teacher_test_util.h"
#include "cuda/cuda_test_util.h"
#include "dist/dist_test_util.h"
#include "dist/sync.h"
#include "model/slice.h"
#include "model/slice_test_util.h"
#include "model/structure_masks.h"
#include "train/bf16_test_util.h"
#include "train/evaluate.h"
#include "train/trainer.h"
#include "util/compute.h"

namespace vitc {
namespace {

const c10::Device kCpu(c10::kCPU);

// float32 on both sides, TF32 off: the GPU sums in another order, so logits agree to rounding.
constexpr double kRelTol = 1e-4;
constexpr double kAbsTol = 1e-4;

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(kCpu, at::kFloat) - b.to(kCpu, at::kFloat)).abs().max().item<double>();
}

// A copy of `source` on the test device (clone_model keeps the device: copy, then move).
VisionTransformer on_cuda(VisionTransformerImpl& source) {
  VisionTransformer copy = clone_model(source);
  copy->to(test::cuda_test_device());
  return copy;
}

// One model with every parameter random (test::randomize_parameters), on the CPU and on the
// test device, both in eval mode.
struct ModelPair {
  VisionTransformer cpu{nullptr}, gpu{nullptr};
};
ModelPair random_model_pair(const ViTConfig& config) {
  ModelPair m;
  m.cpu = make_model(config, 1);
  test::randomize_parameters(*m.cpu, 2);
  m.cpu->eval();
  m.gpu = on_cuda(*m.cpu);
  m.gpu->eval();
  return m;
}

TEST(Cuda, ForwardMatchesCpuWithAndWithoutStructureMasks) {
  VITC_REQUIRE_CUDA();
  test::Fp32OnCuda fp32;
  torch::NoGradGuard no_grad;
  int checked = 0;
  for (const ViTConfig& config : test::contract_sources()) {
    SCOPED_TRACE(config.name);
    const ModelPair models = random_model_pair(config);
    VisionTransformer cpu = models.cpu, gpu = models.gpu;
    EXPECT_EQ(gpu->device(), test::cuda_test_device());
    torch::manual_seed(3);
    const at::Tensor images = torch::randn({3, 1, 28, 28});  // on the CPU: embed() moves them
    const at::Tensor expected = cpu->forward(images);
    const at::Tensor got = gpu->forward(images);
    EXPECT_EQ(got.device(), test::cuda_test_device());
    EXPECT_TRUE(torch::allclose(got.cpu(), expected, kRelTol, kAbsTol)) << max_abs_diff(got, expected);

    const Structure structure = test::random_structure(config, 7);
    const ModelMasks cpu_masks = structure_masks(config, structure);  // moved by each block
    const ModelMasks gpu_masks = masks_to(cpu_masks, at::TensorOptions().device(test::cuda_test_device()));
    const at::Tensor masked = cpu->forward(images, &cpu_masks);
    const at::Tensor from_cpu_masks = gpu->forward(images, &cpu_masks);
    const at::Tensor from_gpu_masks = gpu->forward(images, &gpu_masks);
    EXPECT_TRUE(torch::equal(from_cpu_masks, from_gpu_masks)) << "the safety-net move changed values";
    EXPECT_TRUE(torch::allclose(from_gpu_masks.cpu(), masked, kRelTol, kAbsTol))
        << max_abs_diff(from_gpu_masks, masked);
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(test::contract_sources().size()));
}

TEST(Cuda, SlicingContractHoldsOnTheGpu) {
  VITC_REQUIRE_CUDA();
  test::Fp32OnCuda fp32;
  torch::NoGradGuard no_grad;
  double worst = 0;
  for (const ViTConfig& config : test::contract_sources()) {
    const ModelPair models = random_model_pair(config);
    VisionTransformer source = models.cpu, gpu = models.gpu;
    torch::manual_seed(3);
    const at::Tensor images = torch::randn({3, 1, 28, 28}).to(test::cuda_test_device());
    for (uint64_t seed = 0; seed < 4; ++seed) {
      SCOPED_TRACE(config.name + " structure seed " + std::to_string(seed));
      const Structure structure = test::random_structure(config, 100 + seed);
      const ModelMasks masks = masks_to(structure_masks(config, structure), images.options());
      VisionTransformer compact = slice_model(*gpu, structure);
      EXPECT_EQ(compact->device(), test::cuda_test_device()) << "the compact model stays on its source's device";
      const at::Tensor masked = gpu->forward(images, &masks);
      const at::Tensor sliced = compact->forward(images);
      EXPECT_TRUE(torch::allclose(sliced, masked, kRelTol, kAbsTol)) << max_abs_diff(sliced, masked);
      worst = std::max(worst, max_abs_diff(sliced, masked));
      // The same structure sliced on the CPU gives the same compact model.
      VisionTransformer compact_cpu = slice_model(*source, structure);
      for (const auto& p : compact_cpu->named_parameters()) {
        const at::Tensor on_gpu = compact->named_parameters()[p.key()];
        EXPECT_TRUE(torch::equal(on_gpu.cpu(), p.value())) << p.key();
      }
    }
  }
  std::printf("largest |compact - masked| logit difference on the GPU: %.2e\n", worst);
}

TEST(Cuda, LeanStructureMasksAreMadeOnTheRequestedDevice) {
  VITC_REQUIRE_CUDA();
  const ViTConfig config = named_config("fm_tiny");
  const ModelMasks masks = lean_structure_masks(config, test::random_structure(config, 5), test::cuda_test_device());
  int defined = 0;
  for (const BlockMasks& b : masks.blocks) {
    for (const at::Tensor* t : {&b.heads, &b.qk, &b.v, &b.mlp, &b.attn_gate, &b.mlp_gate, &b.gate, &b.tokens}) {
      if (!t->defined()) continue;
      EXPECT_EQ(t->device(), test::cuda_test_device());
      ++defined;
    }
  }
  EXPECT_GT(defined, 0);
}

TEST(Cuda, EvaluationAndTrainingStepsMatchTheCpu) {
  VITC_REQUIRE_CUDA();
  test::Fp32OnCuda fp32;
  const auto train = test::fm_subset("train", 640);
  const auto eval = test::fm_subset("test", 500);
  VisionTransformer cpu = make_model(named_config("fm_tiny"), 0);
  VisionTransformer gpu = on_cuda(*cpu);
  const EvalResult cpu_eval = evaluate(*cpu, *eval, 250);
  const EvalResult gpu_eval = evaluate(*gpu, *eval, 250);
  EXPECT_NEAR(gpu_eval.top1, cpu_eval.top1, 0.21) << "at most one of 500 images may flip";
  EXPECT_NEAR(gpu_eval.loss, cpu_eval.loss, 1e-4);

  // 10 AdamW steps of 64 images, no augmentation, the same data order on both devices.
  TrainOptions o;
  o.epochs = 1;
  o.batch_size = 64;
  o.lr = 1e-3;
  o.warmup_epochs = 0;
  o.quiet = true;
  o.out_dir = test::process_temp_dir("cuda", "train_cpu");
  const TrainResult r_cpu = train_model(cpu, train, eval, o);
  o.out_dir = test::process_temp_dir("cuda", "train_gpu");
  const TrainResult r_gpu = train_model(gpu, train, eval, o);
  EXPECT_EQ(gpu->device(), test::cuda_test_device());
  std::printf("train loss cpu %.6f gpu %.6f; top-1 cpu %.2f gpu %.2f\n", r_cpu.history[0].train_loss,
              r_gpu.history[0].train_loss, r_cpu.final_eval.top1, r_gpu.final_eval.top1);
  EXPECT_NEAR(r_gpu.history[0].train_loss, r_cpu.history[0].train_loss, 1e-3);
  // AdamW normalises each update, so an element whose gradient is near zero may move by up to
  // one step (lr 1e-3) differently; a device bug (a batch left on the CPU, masks or optimizer
  // state on the wrong device, a skipped update) moves most weights by ~1e-3.
  double max_diff = 0, sum_diff = 0;
  int64_t count = 0;
  for (const auto& p : cpu->named_parameters()) {
    const at::Tensor diff = (gpu->named_parameters()[p.key()].cpu() - p.value()).abs();
    max_diff = std::max(max_diff, diff.max().item<double>());
    sum_diff += diff.sum().item<double>();
    count += diff.numel();
  }
  std::printf("|w_cpu - w_gpu| after 10 steps: max %.3g, mean %.3g over %lld weights\n", max_diff,
              sum_diff / count, static_cast<long long>(count));
  EXPECT_LT(max_diff, 2e-3);
  EXPECT_LT(sum_diff / count, 1e-5);
}

TEST(Cuda, Bf16AutocastRunsOnTheGpuAndTrains) {
  VITC_REQUIRE_CUDA();
  const auto train = test::fm_subset("train", 1280);
  const auto eval = test::fm_subset("test", 500);
  VisionTransformer model = make_model(named_config("fm_tiny"), 0);
  model->to(test::cuda_test_device());
  model->eval();
  const Batch batch = eval->get_batch({0, 1, 2, 3, 4, 5, 6, 7}).to(test::cuda_test_device());
  at::Tensor fp32, bf16;
  {
    torch::NoGradGuard no_grad;
    fp32 = model->forward(batch.images);
    test::Bf16Scope scope(test::cuda_test_device());
    bf16 = model->forward(batch.images);
  }
  EXPECT_EQ(bf16.scalar_type(), at::kBFloat16) << "autocast was not in effect on CUDA";
  EXPECT_EQ(current_precision(test::cuda_test_device()), Precision::fp32);
  const double scale = fp32.abs().max().item<double>();
  const double diff = max_abs_diff(bf16, fp32);
  std::printf("CUDA fp32 vs bf16 logits: max difference %.4g, max |logit| %.4g\n", diff, scale);
  EXPECT_LT(diff, 0.05 * scale);
  EXPECT_GT(diff, 0.0);

  TrainResult r;
  {
    test::Bf16Scope scope(test::cuda_test_device());
    r = train_model(model, train, eval, test::short_bf16_training(test::process_temp_dir("cuda", "bf16")));
  }
  std::printf("CUDA bf16 training: loss %.4f -> %.4f, top-1 %.2f%%\n", r.history[0].train_loss,
              r.history[1].train_loss, r.final_eval.top1);
  EXPECT_LT(r.history[1].train_loss, r.history[0].train_loss);
  EXPECT_GT(r.final_eval.top1, 40.0) << "chance is 10%";
  for (const auto& p : model->parameters()) {
    EXPECT_EQ(p.scalar_type(), at::kFloat);
    EXPECT_EQ(p.device(), test::cuda_test_device());
  }
}

// One rank is enough to check what the buckets do with devices: Gloo sums CUDA tensors, the
// averaged gradients stay on the GPU, and a broadcast of CPU float64 state next to CUDA float32
// weights (UVC's case) keeps each tensor where it is.
TEST(Cuda, DataParallelBucketsKeepEachTensorOnItsDevice) {
  VITC_REQUIRE_CUDA();
  dist::DistConfig config;
  config.master_port = dist_test::free_port();
  config.timeout_seconds = 30;
  dist::Group group(config);
  at::Tensor w = torch::randn({4, 3}, torch::device(test::cuda_test_device())).requires_grad_();
  at::Tensor unused = torch::randn({5}, torch::device(test::cuda_test_device())).requires_grad_();
  (w * w).sum().backward();
  const at::Tensor grad = w.grad().clone();
  const double loss = dist::average_gradients(group, {w, unused}, 2.5);
  EXPECT_DOUBLE_EQ(loss, 2.5);
  EXPECT_EQ(w.grad().device(), test::cuda_test_device());
  EXPECT_TRUE(torch::equal(w.grad(), grad)) << "one rank's mean is its own gradient";
  EXPECT_FALSE(unused.grad().defined()) << "no rank had a gradient for it";

  at::Tensor weights = torch::randn({6}, torch::device(test::cuda_test_device()));
  at::Tensor state = torch::randn({3}, torch::dtype(torch::kFloat64));
  const at::Tensor weights_before = weights.clone(), state_before = state.clone();
  dist::broadcast_tensors(group, {weights, state}, 0);
  EXPECT_EQ(weights.device(), test::cuda_test_device());
  EXPECT_TRUE(state.device().is_cpu());
  EXPECT_TRUE(torch::equal(weights, weights_before));
  EXPECT_TRUE(torch::equal(state, state_before));
}

}  // namespace
}  // namespace vitc
