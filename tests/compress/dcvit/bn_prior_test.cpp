// DeepInversion's BatchNorm-statistics prior on ResNets: the hooked walk gives the model's
// logits, the first BatchNorm's term equals an independent computation from the stem conv's
// output, and an inversion with the prior moves the batch statistics towards the running ones.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "compress/common/bn_statistics_prior.h"
#include "compress/dcvit/synthetic_source.h"
#include "model/families/resnet/resnet.h"
#include "compress/resnet_test_util.h"
#include "test_support.h"

namespace vitc {
namespace {

// fm_resnet at half width (8/16/32), with running statistics of uniform images over the valid
// pixel range (not of the standard-normal noise an inversion starts from).
ResNet calibrated_resnet() {
  return test::calibrated_small_resnet(28, {8, 16, 32}, 3, [](at::Generator& gen) {
    return at::empty({32, 1, 28, 28}).uniform_(-0.8, 2.0, gen);
  });
}

TEST(BatchNormPrior, WalkGivesTheLogitsAndTheFirstTermIsTheStemStatistics) {
  ResNet model = calibrated_resnet();
  const at::Tensor x = at::rand({6, 1, 28, 28}) * 3.0;  // far from the calibration data
  torch::NoGradGuard no_grad;
  const auto [logits, prior10] = resnet_logits_and_bn_prior(*model, x, 1.0, 10.0);
  const auto prior1 = resnet_logits_and_bn_prior(*model, x, 1.0, 1.0).second;
  EXPECT_TRUE(torch::allclose(logits, model->forward(x), 1e-5, 1e-6));
  // Independently: the stem conv's output statistics against bn1's running ones.
  const at::Tensor y = model->conv1->forward(x);
  const at::Tensor mean = y.mean({0, 2, 3});
  const at::Tensor var = (y - mean.view({1, -1, 1, 1})).pow(2).mean({0, 2, 3});
  const double first = ((var - model->bn1->running_var).norm() +
                        (mean - model->bn1->running_mean).norm()).item<double>();
  EXPECT_NEAR(prior10.item<double>() - prior1.item<double>(), 9 * first, 1e-4 * first);
  EXPECT_GT(prior1.item<double>(), first);  // the other BatchNorms add their terms
  EXPECT_NEAR(resnet_logits_and_bn_prior(*model, x, 0.5, 10.0).second.item<double>(),
              0.5 * prior10.item<double>(), 1e-6 * prior10.item<double>());
}

TEST(BatchNormPrior, InversionMatchesTheRunningStatistics) {
  ResNet model = calibrated_resnet();
  InversionOptions o;
  o.count = 10;
  o.iterations = 60;
  o.quiet = true;
  BnPriorOptions bn;
  bn.weight = 0.05;
  const InversionSubject subject = resnet_inversion_subject(*model, bn);
  const std::string dir = test_support::absent_dir("bn_prior_synth");
  const SyntheticSet set = synthesize(subject, o, dir);
  EXPECT_EQ(set.info["prior"], "BatchNorm statistics (DeepInversion)");
  EXPECT_EQ(set.info["prior_settings"], (nlohmann::json{{"bn_weight", 0.05}, {"first_bn_multiplier", 10.0}}));
  EXPECT_LT(set.info["best_loss"].get<double>(), 0.5 * set.info["first_loss"].get<double>());
  torch::NoGradGuard no_grad;
  at::Generator gen = at::detail::createCPUGenerator(2023);
  const at::Tensor start_like = at::normal(0.0, 1.0, {10, 1, 28, 28}, gen);  // as the inversion starts
  const double noise = resnet_logits_and_bn_prior(*model, start_like, 1.0, 10.0).second.item<double>();
  const double synthetic = resnet_logits_and_bn_prior(*model, set.raw, 1.0, 10.0).second.item<double>();
  EXPECT_LT(synthetic, noise);
  const SyntheticSet back = load_synthetic_set(dir, model->config());
  EXPECT_TRUE(torch::equal(back.raw, set.raw));
  // Data-parallel inversion would split the batch whose statistics the prior compares.
  EXPECT_TRUE(subject.batch_prior);
}

}  // namespace
}  // namespace vitc
