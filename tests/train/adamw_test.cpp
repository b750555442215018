// vitc::AdamW against LibTorch's own torch::optim::AdamW, and its state round trip.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "train/adamw.h"
#include "util/error.h"

namespace vitc {
namespace {

TEST(AdamW, MatchesTorchAdamW) {
  torch::manual_seed(0);
  at::Tensor a = torch::randn({4, 3}, torch::requires_grad());
  at::Tensor b = a.detach().clone().requires_grad_(true);
  AdamWOptions options;
  options.weight_decay = 0.05;
  AdamW ours({{"w", a}}, options);
  torch::optim::AdamW theirs({b}, torch::optim::AdamWOptions(1e-2).weight_decay(0.05));
  for (int step = 0; step < 20; ++step) {
    const at::Tensor g = torch::randn({4, 3});
    ours.zero_grad();
    theirs.zero_grad();
    (a * g).sum().backward();
    (b * g).sum().backward();
    ours.step(1e-2);
    theirs.step();
  }
  EXPECT_TRUE(torch::allclose(a, b, 1e-6, 1e-7)) << (a - b).abs().max();
}

TEST(AdamW, NoDecayForVectorsAndNamedTokens) {
  at::Tensor bias = torch::ones({3}, torch::requires_grad());
  at::Tensor token = torch::ones({1, 1, 3}, torch::requires_grad());
  at::Tensor weight = torch::ones({2, 2}, torch::requires_grad());
  AdamW opt({{"bias", bias}, {"cls_token", token}, {"w", weight}}, AdamWOptions{});
  for (auto* p : {&bias, &token, &weight}) p->mutable_grad() = torch::zeros_like(*p);
  opt.step(0.1);  // zero gradients: only weight decay moves anything
  EXPECT_TRUE(torch::equal(bias, torch::ones({3})));
  EXPECT_TRUE(torch::equal(token, torch::ones({1, 1, 3})));
  EXPECT_NEAR(weight[0][0].item<double>(), 1.0 - 0.1 * 0.05, 1e-7);
}

TEST(AdamW, StateRoundTripContinuesIdentically) {
  torch::manual_seed(1);
  at::Tensor a = torch::randn({5}, torch::requires_grad());
  AdamW first({{"p", a}}, AdamWOptions{});
  for (int i = 0; i < 3; ++i) {
    first.zero_grad();
    (a * a).sum().backward();
    first.step(1e-2);
  }
  at::Tensor b = a.detach().clone().requires_grad_(true);
  AdamW second({{"p", b}}, AdamWOptions{});
  second.load_state(first.state(), "memory");
  for (auto [opt, p] : {std::pair<AdamW*, at::Tensor*>{&first, &a}, {&second, &b}}) {
    opt->zero_grad();
    (*p * *p).sum().backward();
    opt->step(1e-2);
  }
  EXPECT_TRUE(torch::equal(a, b));
  TensorMap broken = first.state();
  broken.erase("p.exp_avg");
  EXPECT_THROW(second.load_state(broken, "memory"), Error);
}

}  // namespace
}  // namespace vitc
