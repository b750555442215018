// Distillation loss: closed forms of the KL term, its gradient, and the CE-only limit.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "compress/common/distill.h"
#include "util/error.h"

namespace vitc {
namespace {

TEST(Distill, AlphaZeroIsCrossEntropyWithLabelSmoothing) {
  torch::manual_seed(0);
  HeadOutputs out;
  out.cls = torch::randn({8, 5});
  const at::Tensor labels = torch::randint(0, 5, {8}, torch::kLong);
  DistillOptions o;
  o.label_smoothing = 0.1;
  const at::Tensor expected = torch::nn::functional::cross_entropy(
      out.cls, labels, torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(0.1));
  EXPECT_TRUE(torch::allclose(distillation_loss(out, at::Tensor(), labels, o), expected));
}

TEST(Distill, KlTermMatchesClosedForm) {
  const at::Tensor s = torch::tensor({{1.0, 2.0, 0.5}, {0.0, -1.0, 3.0}}, torch::kDouble);
  const at::Tensor t = torch::tensor({{0.5, 1.5, 1.0}, {2.0, 0.0, 1.0}}, torch::kDouble);
  const double T = 2.0;
  double expected = 0;
  for (int b = 0; b < 2; ++b) {
    double zs = 0, zt = 0;
    for (int c = 0; c < 3; ++c) {
      zs += std::exp(s[b][c].item<double>() / T);
      zt += std::exp(t[b][c].item<double>() / T);
    }
    for (int c = 0; c < 3; ++c) {
      const double ps = std::exp(s[b][c].item<double>() / T) / zs;
      const double pt = std::exp(t[b][c].item<double>() / T) / zt;
      expected += pt * std::log(pt / ps);
    }
  }
  expected = expected / 2 * T * T;
  EXPECT_NEAR(soft_distillation_term(s, t, T).item<double>(), expected, 1e-12);
  EXPECT_NEAR(soft_distillation_term(t, t, T).item<double>(), 0.0, 1e-12);
}

TEST(Distill, KlGradientIsTemperatureTimesProbabilityGap) {
  // d/ds T^2 KL(pt || ps) = T (ps - pt) / B, with ps, pt the softmaxes at temperature T.
  const double T = 3.0;
  const at::Tensor s = torch::tensor({{1.0, -2.0, 0.5, 0.0}}, torch::kDouble).requires_grad_(true);
  const at::Tensor t = torch::tensor({{0.3, 0.1, -1.0, 2.0}}, torch::kDouble);
  soft_distillation_term(s, t, T).backward();
  const at::Tensor expected = T * (torch::softmax(s.detach() / T, -1) - torch::softmax(t / T, -1));
  EXPECT_TRUE(torch::allclose(s.grad(), expected, 1e-10, 1e-12));
}

TEST(Distill, MixesTermsWithAlpha) {
  torch::manual_seed(1);
  HeadOutputs out;
  out.cls = torch::randn({4, 3});
  const at::Tensor teacher = torch::randn({4, 3});
  const at::Tensor labels = torch::tensor({0, 1, 2, 1}, torch::kLong);
  DistillOptions o;
  o.alpha = 0.25;
  o.temperature = 2.0;
  o.label_smoothing = 0.0;
  const at::Tensor ce = torch::nn::functional::cross_entropy(out.cls, labels);
  const at::Tensor kd = soft_distillation_term(out.cls, teacher, 2.0);
  EXPECT_TRUE(torch::allclose(distillation_loss(out, teacher, labels, o), 0.75 * ce + 0.25 * kd));
  EXPECT_THROW(distillation_loss(out, at::Tensor(), labels, o), Error);
}

TEST(Distill, RejectsBadOptions) {
  DistillOptions o;
  o.alpha = 1.5;
  try {
    o.validate();
    FAIL() << "expected vitc::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--kd-alpha"), std::string::npos) << e.what();
  }
  o.alpha = 0.5;
  o.temperature = 0;
  EXPECT_THROW(o.validate(), Error);
  EXPECT_THROW(make_distillation_loss(VisionTransformer(nullptr), DistillOptions{0.5, 1.0, 0.0}),
               Error);
}

}  // namespace
}  // namespace vitc
