// UVC's custom autograd functions against finite differences: ceil's straight-through gradient
// equals the slope of ceil over one unit, and the k-smallest sum's gradients equal the central
// differences in the values and the unit difference in k.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "compress/uvc/autograd.h"
#include "util/error.h"

namespace vitc {
namespace {

TEST(UvcAutograd, SteCeilForwardIsCeilAndGradientIsTheUnitSlope) {
  const at::Tensor x = torch::tensor({0.0, 0.2, 1.0, 2.7, 3.999}, torch::kFloat64).requires_grad_(true);
  const at::Tensor y = ste_ceil(x);
  EXPECT_TRUE(torch::equal(y.detach(), torch::tensor({0.0, 1.0, 1.0, 3.0, 4.0}, torch::kFloat64)));
  const at::Tensor w = torch::tensor({1.0, -2.0, 3.0, 0.5, 4.0}, torch::kFloat64);
  (y * w).sum().backward();
  // Finite difference over one unit: (ceil(x + 1) - ceil(x)) / 1 = 1 for every x.
  const at::Tensor fd = ((x.detach() + 1).ceil() - x.detach().ceil()) * w;
  EXPECT_TRUE(torch::allclose(x.grad(), fd));
}

TEST(UvcAutograd, LeastKSumValuesAndGradients) {
  at::Generator gen = at::detail::createCPUGenerator(3);
  const at::Tensor values = at::rand({5, 7}, gen, torch::kFloat64);  // distinct almost surely
  const at::Tensor k = torch::tensor({0.0, 1.0, 3.0, 6.0, 7.0}, torch::kFloat64);
  const auto sum_of = [&](const at::Tensor& v, const at::Tensor& kk) {
    torch::NoGradGuard no_grad;
    return least_k_sum(v, kk);
  };
  // Forward against a direct computation.
  const at::Tensor sorted = std::get<0>(values.sort(1));
  for (int64_t i = 0; i < 5; ++i) {
    const int64_t kk = static_cast<int64_t>(k[i].item<double>());
    EXPECT_NEAR(sum_of(values, k)[i].item<double>(),
                kk == 0 ? 0.0 : sorted[i].narrow(0, 0, kk).sum().item<double>(), 1e-12);
  }

  const at::Tensor v = values.clone().requires_grad_(true);
  const at::Tensor kv = k.clone().requires_grad_(true);
  const at::Tensor weights = torch::tensor({1.0, 2.0, -1.0, 0.5, 3.0}, torch::kFloat64);
  (least_k_sum(v, kv) * weights).sum().backward();

  // d/dvalues: central differences.
  const double eps = 1e-6;
  for (int64_t i = 0; i < 5; ++i) {
    for (int64_t j = 0; j < 7; ++j) {
      at::Tensor plus = values.clone(), minus = values.clone();
      plus[i][j] += eps;
      minus[i][j] -= eps;
      const double fd =
          ((sum_of(plus, k) - sum_of(minus, k)) * weights).sum().item<double>() / (2 * eps);
      EXPECT_NEAR(v.grad()[i][j].item<double>(), fd, 1e-6) << "row " << i << " col " << j;
    }
  }
  // d/dk: k is a count, so the finite difference is over one unit, S(k + 1) - S(k); at k = n
  // nothing is left to select and the gradient is 0.
  for (int64_t i = 0; i < 5; ++i) {
    const double kk = k[i].item<double>();
    double fd = 0;
    if (kk < 7) {
      at::Tensor k1 = k.clone();
      k1[i] += 1;
      fd = ((sum_of(values, k1) - sum_of(values, k)) * weights).sum().item<double>();
    }
    EXPECT_NEAR(kv.grad()[i].item<double>(), fd, 1e-12) << "row " << i;
  }
}

TEST(UvcAutograd, LeastKSumThroughCeilOfAContinuousCount) {
  const at::Tensor values = torch::tensor({{0.5, 0.1, 0.9, 0.3}}, torch::kFloat64);
  const at::Tensor s = torch::tensor({1.4}, torch::kFloat64).requires_grad_(true);
  const at::Tensor out = least_k_sum(values, ste_ceil(s));  // ceil(1.4) = 2: 0.1 + 0.3
  EXPECT_NEAR(out.item<double>(), 0.4, 1e-12);
  out.backward();
  EXPECT_NEAR(s.grad().item<double>(), 0.5, 1e-12);  // the third smallest
}

TEST(UvcAutograd, LeastKSumRejectsBadK) {
  const at::Tensor values = torch::zeros({2, 3}, torch::kFloat64);
  EXPECT_THROW(least_k_sum(values, torch::tensor({1.0, 4.0}, torch::kFloat64)), Error);
  EXPECT_THROW(least_k_sum(values, torch::tensor({0.5, 1.0}, torch::kFloat64)), Error);
  EXPECT_THROW(least_k_sum(values, torch::tensor({1.0}, torch::kFloat64)), Error);
}

}  // namespace
}  // namespace vitc
