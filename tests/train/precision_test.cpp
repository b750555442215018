// --precision bf16 (autocast) on the CPU: matrix products really run in bfloat16, weights and
// optimizer state stay float32, a short training run learns like fp32 does, and evaluation of
// one model in bf16 agrees with fp32 up to bfloat16 rounding.
#include <cstdio>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "compress/tiny_teacher_test_util.h"
#include "train/bf16_test_util.h"
#include "train/trainer.h"
#include "util/compute.h"
#include "util/error.h"

namespace vitc {
namespace {

const c10::Device kCpu(c10::kCPU);

using test::Bf16Scope;

TEST(Precision, ParsesNamesAndRejectsOthers) {
  EXPECT_EQ(parse_precision("fp32"), Precision::fp32);
  EXPECT_EQ(parse_precision("bf16"), Precision::bf16);
  EXPECT_EQ(precision_name(Precision::bf16), "bf16");
  try {
    parse_precision("fp16");
    FAIL() << "fp16 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fp32 or bf16, got 'fp16'"), std::string::npos) << e.what();
  }
}

TEST(Device, BareCudaTakesTheLocalRank) {
  EXPECT_EQ(process_device_name("cuda", 1), "cuda:1");
  EXPECT_EQ(process_device_name("cuda", -1), "cuda");
  EXPECT_EQ(process_device_name("cuda:0", 1), "cuda:0") << "an explicit index wins";
  EXPECT_EQ(process_device_name("cpu", 1), "cpu");
  EXPECT_TRUE(parse_device("cpu").is_cpu());
}

TEST(Precision, Bf16AutocastRunsLinearInBfloat16AndFp32RestoresFloat) {
  torch::nn::Linear linear(8, 4);
  const at::Tensor x = torch::randn({2, 8});
  EXPECT_EQ(current_precision(kCpu), Precision::fp32);
  {
    Bf16Scope bf16(kCpu);
    EXPECT_EQ(current_precision(kCpu), Precision::bf16);
    EXPECT_EQ(linear->forward(x).scalar_type(), at::kBFloat16);
    EXPECT_EQ(linear->weight.scalar_type(), at::kFloat) << "weights stay float32";
  }
  EXPECT_EQ(current_precision(kCpu), Precision::fp32);
  EXPECT_EQ(linear->forward(x).scalar_type(), at::kFloat);
}

TEST(Precision, Bf16EvaluationAgreesWithFp32) {
  const auto test_data = test::fm_subset("test", 256);
  VisionTransformer model = make_model(named_config("fm_tiny"), 3);
  model->eval();
  const Batch batch = test_data->get_batch({0, 1, 2, 3, 4, 5, 6, 7});
  torch::NoGradGuard no_grad;
  const at::Tensor fp32 = model->forward(batch.images);
  at::Tensor bf16;
  {
    Bf16Scope scope(kCpu);
    bf16 = model->forward(batch.images);
  }
  EXPECT_EQ(bf16.scalar_type(), at::kBFloat16) << "autocast was not in effect";
  // bfloat16 keeps 8 bits of mantissa: ~0.4% per rounding, a few percent through 4 blocks.
  const double scale = fp32.abs().max().item<double>();
  const double diff = (bf16.to(at::kFloat) - fp32).abs().max().item<double>();
  std::printf("fp32 vs bf16 logits: max difference %.4g, max |logit| %.4g\n", diff, scale);
  EXPECT_LT(diff, 0.05 * scale) << "fp32 vs bf16 logits differ by " << diff << " (max |logit| " << scale << ")";
  EXPECT_GT(diff, 0.0) << "bf16 gave bit-identical logits: nothing ran in bfloat16";
}

TEST(Precision, Bf16TrainingLearnsAndKeepsFloat32State) {
  const auto train = test::fm_subset("train", 1280);
  const auto test_data = test::fm_subset("test", 500);
  const TrainOptions o = test::short_bf16_training(test::process_temp_dir("precision", "bf16"));
  VisionTransformer model = make_model(named_config("fm_tiny"), 0);
  const EvalResult before = evaluate(*model, *test_data, 250);
  TrainResult r;
  {
    Bf16Scope bf16(kCpu);
    r = train_model(model, train, test_data, o);
  }
  ASSERT_EQ(r.history.size(), 2u);
  std::printf("bf16 training: loss %.4f -> %.4f, top-1 %.2f%% -> %.2f%%\n", r.history[0].train_loss,
              r.history[1].train_loss, before.top1, r.final_eval.top1);
  EXPECT_TRUE(std::isfinite(r.history[1].train_loss));
  EXPECT_LT(r.history[1].train_loss, r.history[0].train_loss);
  EXPECT_LT(r.final_eval.loss, before.loss);
  EXPECT_GT(r.final_eval.top1, 40.0) << "chance is 10%";
  for (const auto& p : model->parameters()) EXPECT_EQ(p.scalar_type(), at::kFloat);
}

}  // namespace
}  // namespace vitc
