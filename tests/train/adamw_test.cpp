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

// The fused float32 pass against the tensor operations it replaces, on a matrix with weight decay
// large enough to be split across parallel chunks, a vector without decay and a float64
// parameter (which takes the tensor operations either way); the parameter versions move, as
// caches keyed by them (padded attention weights) require.
TEST(AdamW, FusedPassMatchesTheTensorOperations) {
  torch::manual_seed(2);
  const std::vector<at::Tensor> start = {torch::randn({300, 400}), torch::randn({7}),
                                         torch::randn({3, 3}, torch::kDouble)};
  std::vector<at::Tensor> fused_params, plain_params;
  AdamW::NamedParams fused_named, plain_named;
  for (size_t i = 0; i < start.size(); ++i) {
    fused_params.push_back(start[i].clone().requires_grad_(true));
    plain_params.push_back(start[i].clone().requires_grad_(true));
    fused_named.emplace_back("p" + std::to_string(i), fused_params.back());
    plain_named.emplace_back("p" + std::to_string(i), plain_params.back());
  }
  AdamWOptions options;
  options.weight_decay = 0.05;
  AdamW fused(fused_named, options), plain(plain_named, options);
  plain.set_fused(false);
  const int64_t version_before = fused_params[0]._version();
  for (int step = 0; step < 20; ++step) {
    fused.zero_grad();
    plain.zero_grad();
    for (size_t i = 0; i < start.size(); ++i) {
      const at::Tensor g = torch::randn(start[i].sizes(), start[i].options());
      (fused_params[i] * g).sum().backward();
      (plain_params[i] * g).sum().backward();
    }
    fused.step(1e-2);
    plain.step(1e-2);
  }
  for (size_t i = 0; i < start.size(); ++i) {
    EXPECT_TRUE(torch::allclose(fused_params[i], plain_params[i], 1e-5, 1e-6))
        << i << ": " << (fused_params[i] - plain_params[i]).abs().max();
    EXPECT_FALSE(torch::equal(fused_params[i], start[i])) << i;
  }
  const TensorMap a = fused.state(), b = plain.state();
  for (const auto& [key, value] : a) {
    EXPECT_TRUE(torch::allclose(value, b.at(key), 1e-5, 1e-7)) << key;
  }
  EXPECT_GE(fused_params[0]._version(), version_before + 20);
}

TEST(AdamW, ZeroGradDropsGradientsAndAParameterWithoutOneStaysPut) {
  at::Tensor used = torch::ones({2, 2}, torch::requires_grad());
  at::Tensor unused = torch::ones({2, 2}, torch::requires_grad());
  AdamW opt({{"used", used}, {"unused", unused}}, AdamWOptions{});
  (used * unused).sum().backward();
  opt.step(0.1);
  opt.zero_grad();
  EXPECT_FALSE(used.grad().defined());
  EXPECT_FALSE(unused.grad().defined());
  const at::Tensor before = unused.detach().clone();
  (used * 2).sum().backward();  // only `used` gets a gradient now
  opt.step(0.1);
  EXPECT_TRUE(torch::equal(unused, before));  // no momentum step, no decay
  EXPECT_FALSE(torch::equal(used, torch::ones({2, 2})));
}

}  // namespace
}  // namespace vitc
