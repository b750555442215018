// The GELU row kernel against GELU in double precision (std::erf), both kernels (AVX-512 and
// portable), every row length's tail, special values, autograd against ATen's, and the fused
// inference of fc1 (gelu_of_linear) against training's separate bias and GELU: the same floats.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/gelu.h"

namespace vitc {
namespace {

double exact_gelu(double x) { return 0.5 * x * std::erfc(-x / std::sqrt(2.0)); }

std::vector<float> grid() {
  std::vector<float> xs;
  for (int i = -20000; i <= 20000; ++i) xs.push_back(static_cast<float>(i) * 5e-4f);  // [-10, 10]
  for (float x : {1e-30f, -1e-30f, 1e-7f, -1e-7f, 0.0f, -0.0f, 30.0f, -30.0f, 1e4f, -1e4f})
    xs.push_back(x);
  return xs;
}

// Abramowitz-Stegun's erfc is within 1.5e-7 of the truth, so Phi within 0.75e-7; its float
// evaluation adds a few ulps of Phi (< 1): GELU = x Phi within 3e-7 |x|.
void expect_near_exact(const std::vector<float>& xs, const std::vector<float>& ys,
                       const char* kernel) {
  double worst = 0.0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double truth = exact_gelu(xs[i]);
    const double error = std::abs(ys[i] - truth);
    const double bound = 3e-7 * std::abs(static_cast<double>(xs[i]));
    worst = std::max(worst, error / (bound + 1e-37));
    EXPECT_LE(error, bound + 1e-37) << kernel << " at x = " << xs[i] << ": " << ys[i]
                                    << " against " << truth;
  }
  std::printf("%s: worst error %.2f of the bound\n", kernel, worst);
}

TEST(GeluRows, BothKernelsMatchGeluInDoublePrecision) {
  const std::vector<float> xs = grid();
  std::vector<float> fast(xs.size()), portable(xs.size());
  const int64_t n = static_cast<int64_t>(xs.size());
  gelu_rows_of(xs.data(), nullptr, fast.data(), 1, n);
  gelu_rows_portable_of(xs.data(), nullptr, portable.data(), 1, n);
  expect_near_exact(xs, fast, "gelu_rows_of");
  expect_near_exact(xs, portable, "gelu_rows_portable_of");
}

TEST(GeluRows, EveryElementGetsTheSameValueWhereverItSitsInARow) {
  // Each element alone (a row of 1: the tail path) against rows of every length 1..40 with a
  // bias: the masked tail computes what the full vectors do, bit for bit.
  torch::manual_seed(5);
  for (int64_t n = 1; n <= 40; ++n) {
    const at::Tensor x = torch::randn({3, n}) * 3, bias = torch::randn({n});
    at::Tensor rows = torch::empty_like(x);
    gelu_rows_of(x.data_ptr<float>(), bias.data_ptr<float>(), rows.data_ptr<float>(), 3, n);
    const at::Tensor summed = x + bias;  // the same float addition the kernel makes
    for (int64_t i = 0; i < 3 * n; ++i) {
      const float in = summed.data_ptr<float>()[i];
      float alone = 0.0f;
      gelu_rows_of(&in, nullptr, &alone, 1, 1);
      ASSERT_EQ(rows.data_ptr<float>()[i], alone) << "n " << n << " element " << i;
    }
  }
}

TEST(GeluRows, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> xs = {std::numeric_limits<float>::quiet_NaN(), inf, -1e30f, 1e30f};
  for (bool portable : {false, true}) {
    std::vector<float> ys(xs.size());
    (portable ? gelu_rows_portable_of : gelu_rows_of)(xs.data(), nullptr, ys.data(), 1, 4);
    EXPECT_TRUE(std::isnan(ys[0])) << portable;
    EXPECT_EQ(ys[1], inf) << portable;
    EXPECT_EQ(ys[2], 0.0f) << portable;
    EXPECT_EQ(ys[3], 1e30f) << portable;
  }
}

TEST(GeluRows, TensorsAndGradientsMatchATen) {
  torch::manual_seed(7);
  const at::Tensor base = torch::randn({4, 50, 37}) * 2;
  const at::Tensor x = base.transpose(0, 1).requires_grad_(true);  // not contiguous
  const at::Tensor theirs_in = x.detach().clone().requires_grad_(true);
  const at::Tensor ours = vitc::gelu(x), theirs = torch::gelu(theirs_in);
  EXPECT_TRUE(torch::allclose(ours, theirs, 1e-6, 1e-6)) << (ours - theirs).abs().max();
  const at::Tensor grad = torch::randn_like(ours);
  ours.backward(grad);
  theirs.backward(grad);
  EXPECT_TRUE(torch::equal(x.grad(), theirs_in.grad()));  // both ATen's gelu_backward
  // Other dtypes go to ATen.
  const at::Tensor d = torch::randn({5, 9}, torch::kDouble);
  EXPECT_TRUE(torch::equal(vitc::gelu(d), torch::gelu(d)));
}

TEST(GeluRows, FusedInferenceOfALinearLayerEqualsTrainingsSeparatePasses) {
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  torch::manual_seed(11);
  for (int64_t hidden : {85, 256}) {
    torch::nn::Linear fc1(64, hidden);
    const at::Tensor x = torch::randn({8, 50, 64});
    const at::Tensor training = gelu_of_linear(x.requires_grad_(true), fc1);
    ASSERT_TRUE(training.requires_grad());
    at::Tensor inference;
    {
      torch::NoGradGuard no_grad;
      inference = gelu_of_linear(x, fc1);
    }
    EXPECT_TRUE(torch::equal(training.detach(), inference)) << "hidden " << hidden;
    const at::Tensor aten = torch::gelu(torch::linear(x, fc1->weight, fc1->bias));
    EXPECT_TRUE(torch::allclose(inference, aten, 1e-5, 1e-5)) << (inference - aten).abs().max();
  }
  at::set_num_threads(threads);
}

}  // namespace
}  // namespace vitc
