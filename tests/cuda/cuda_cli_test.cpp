// Every command that runs a model, run by the `vitc` binary with --device cuda on a teacher that
// `vitc train --device cuda` made, in fp32 and bf16; and `vitc train` as two processes sharing
// the GPU (Gloo on CUDA tensors) against one process with the doubled batch. Skips without a GPU.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cuda/cuda_test_util.h"
#include "dist/dist_test_util.h"
#include "io/safetensors.h"

namespace {

using dist_test::finish;
using dist_test::Outcome;
using dist_test::start_vitc;
using dist_test::absent_dir;

Outcome run(const std::string& args) { return finish(start_vitc(args)); }

// `--device cuda`, or `--device cpu` in a dry run (tests/cuda/cuda_test_util.h).
std::string device_flag() { return vitc::test::cuda_test_device().is_cuda() ? "cuda" : "cpu"; }

// Exit 0, and the command said it ran on the GPU (cuda:0: a bare `cuda` is the first GPU) in
// this precision, on its `threads:` line.
void expect_ran_on_cuda(const std::string& args, const std::string& precision = "fp32") {
  SCOPED_TRACE(args);
  const Outcome o = run(args + " --device " + device_flag() + " --precision " + precision);
  EXPECT_EQ(o.exit_code, 0) << o.output;
  EXPECT_NE(o.output.find("device " + vitc::test::cuda_test_device().str() + ", precision " + precision),
            std::string::npos)
      << o.output;
}

const std::string kThreads = " --threads 2";
const std::string kQuick = kThreads + " --quiet";  // commands that train

TEST(CudaCli, EveryModelCommandRunsOnTheGpu) {
  VITC_REQUIRE_CUDA();
  const std::string teacher = absent_dir("cuda_teacher"), root = absent_dir("cuda_runs");
  const std::string train =
      "train --model fm_tiny --init-seed 3 --epochs 1 --max-steps-per-epoch 20 --warmup-epochs 0 "
      "--lr 1e-3 --train-subset 1280 --eval-subset 256 --batch-size 64";
  expect_ran_on_cuda(train + kQuick + " --out " + teacher);
  expect_ran_on_cuda(train + kQuick + " --out " + root + "/train_bf16", "bf16");
  const std::string t = " --teacher " + teacher;
  const std::string small = " --train-subset 512 --eval-subset 128";
  const std::vector<std::string> commands = {
      "eval --model " + teacher + " --eval-subset 256",
      "predict --model " + teacher + " --input " + root + "/batch.safetensors --out " + root + "/predict",
      "bench --model " + teacher + " --batch-sizes 1,64 --warmup 1 --repeats 3",
      "prune --macs 0.6" + t + small + " --finetune-epochs 1 --finetune-max-steps-per-epoch 4 --out " +
          root + "/prune",
      "slim run --macs 0.6" + t + small +
          " --search-epochs 1 --search-max-steps-per-epoch 4 --finetune-epochs 1 "
          "--finetune-max-steps-per-epoch 4 --latency-repeats 1 --out " + root + "/slim",
      "uvc run --macs 0.6" + t + small +
          " --search-epochs 1 --search-warmup-epochs 0.25 --search-max-steps-per-epoch 4 "
          "--finetune-epochs 1 --finetune-max-steps-per-epoch 4 --latency-repeats 1 --out " + root + "/uvc",
      "dcvit run --macs 0.8" + t +
          " --per-class 8 --eval-subset 128 --epochs 1 --synth-count 4 --synth-iterations 20 "
          "--latency-repeats 1 --out " + root + "/dcvit",
      "practise run --drop 1" + t +
          " --per-class 8 --eval-subset 128 --epochs 1 --recover-epochs 1 --latency-proxy-macs "
          "--latency-repeats 1 --out " +
          root + "/practise",
  };
  // predict reads a safetensors batch of images: 4 test images written by the test.
  std::filesystem::create_directories(root);
  {
    const at::Tensor images = torch::rand({4, 1, 28, 28});
    vitc::write_safetensors(root + "/batch.safetensors", {{"images", images}});
  }
  for (size_t i = 0; i < commands.size(); ++i) expect_ran_on_cuda(commands[i] + (i < 3 ? kThreads : kQuick));
  expect_ran_on_cuda(commands[0] + kThreads, "bf16");  // eval
  expect_ran_on_cuda(commands[2] + kThreads, "bf16");  // bench
  for (const char* method : {"prune", "slim", "uvc", "dcvit", "practise"}) {
    SCOPED_TRACE(method);
    // Every method ends in a compressed model directory (<out>) that loads back and runs.
    const std::string dir = root + "/" + method;
    ASSERT_TRUE(std::filesystem::exists(dir + "/model.json")) << dir;
    expect_ran_on_cuda("eval --model " + dir + " --eval-subset 128" + kThreads);
  }
}

// As tests/dist/train_dist_test.cpp, on the GPU: both ranks use cuda:0 and Gloo reduces CUDA
// tensors. TF32 (PyTorch's default for cuDNN convolutions) is the same in both runs.
TEST(CudaCli, TwoProcessesOnTheGpuMatchOneProcessOfDoubleBatch) {
  VITC_REQUIRE_CUDA();
  const std::string single = absent_dir("cuda_single"), pair = absent_dir("cuda_pair");
  const auto args = [](const std::string& out, int batch) {
    return "train --model fm_tiny --init-seed 3 --epochs 1 --max-steps-per-epoch 4 --warmup-epochs 0 "
           "--lr 1e-3 --train-subset 256 --eval-subset 64 --threads 1 --quiet --device " +
           device_flag() + " --batch-size " + std::to_string(batch) + " --out " + out;
  };
  const dist_test::OneAndPair r = dist_test::run_one_and_pair(args, single, pair, "test top1");
  ASSERT_TRUE(r.ok);
  const dist_test::FileDiff d =
      dist_test::safetensors_diff(single + "/model.safetensors", pair + "/model.safetensors");
  std::printf("GPU |w_1proc - w_2proc|: max %.3g, mean %.3g over %lld weights\n", d.max, d.mean,
              static_cast<long long>(d.elements));
  // The CPU test measured max 2.7e-5 and mean 2.4e-9; the GPU's reduction order differs more
  // between batch sizes, so the bounds are looser, yet a wrong shard or a missing average
  // (most weights off by ~1e-4..1e-3) still fails the mean.
  EXPECT_LT(d.max, 1e-3);
  EXPECT_LT(d.mean, 1e-6);
}

}  // namespace
