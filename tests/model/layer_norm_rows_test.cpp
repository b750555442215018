// layer_norm_last_dim and add_then_layer_norm against ATen's LayerNorm: row lengths around the
// vector width and the models' (64, 96, 384), inference and gradients, a NaN row, fallbacks.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/layer_norm_rows.h"

namespace vitc {
namespace {

torch::nn::LayerNorm random_norm(int64_t n, double eps) {
  torch::nn::LayerNorm norm(torch::nn::LayerNormOptions({n}).eps(eps));
  torch::NoGradGuard no_grad;
  norm->weight.uniform_(0.5, 1.5);
  norm->bias.uniform_(-0.5, 0.5);
  return norm;
}

TEST(LayerNormRows, MatchesATenWithinFloatRounding) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(5);
  for (int64_t n : {1, 7, 15, 16, 17, 50, 64, 96, 384}) {
    for (double eps : {1e-6, 1e-5}) {
      torch::nn::LayerNorm norm = random_norm(n, eps);
      const at::Tensor x = torch::randn({3, 5, n}) * 3 + 2;
      const at::Tensor ours = layer_norm_last_dim(x, *norm), theirs = norm->forward(x);
      if (n == 1) {
        // Every row is its own mean: the exact output is the bias. (ATen's rounding leaves up to
        // 3e-4 there, its float error in the mean amplified by 1 / sqrt(eps).)
        EXPECT_TRUE(torch::equal(ours, norm->bias.expand_as(ours))) << "eps " << eps;
        continue;
      }
      EXPECT_TRUE(torch::allclose(ours, theirs, 1e-5, 1e-5))
          << "n " << n << " eps " << eps << ": " << (ours - theirs).abs().max();
    }
  }
}

TEST(LayerNormRows, FusedAdditionWritesTheSumAndItsNorm) {
  torch::NoGradGuard no_grad;
  for (int64_t n : {16, 50, 64, 384}) {
    torch::nn::LayerNorm norm = random_norm(n, 1e-6);
    const at::Tensor x = torch::randn({4, 50, n}), a = torch::randn({4, 50, n});
    const SumAndNormed r = add_then_layer_norm(x, a, *norm);
    EXPECT_TRUE(torch::equal(r.sum, x + a)) << "n " << n;
    EXPECT_TRUE(torch::allclose(r.normed, norm->forward(x + a), 1e-5, 1e-5)) << "n " << n;
    // The same normalised values as the unfused kernel on the same sum.
    EXPECT_TRUE(torch::equal(r.normed, layer_norm_last_dim(x + a, *norm))) << "n " << n;
  }
}

TEST(LayerNormRows, GradientsMatchATenAndTheForwardIsTheInferenceOne) {
  for (int64_t n : {50, 64}) {
    torch::nn::LayerNorm ours_norm = random_norm(n, 1e-6);
    torch::nn::LayerNorm aten_norm(torch::nn::LayerNormOptions({n}).eps(1e-6));
    {
      torch::NoGradGuard no_grad;
      aten_norm->weight.copy_(ours_norm->weight);
      aten_norm->bias.copy_(ours_norm->bias);
    }
    const at::Tensor base = torch::randn({6, 10, n}) * 2;
    const at::Tensor xa = base.clone().requires_grad_(true), xb = base.clone().requires_grad_(true);
    const at::Tensor a = torch::randn(base.sizes());
    const SumAndNormed ya = add_then_layer_norm(xa, a, *ours_norm);
    const at::Tensor yb = aten_norm->forward(xb + a);
    ASSERT_TRUE(ya.normed.requires_grad());
    {
      torch::NoGradGuard no_grad;
      EXPECT_TRUE(torch::equal(ya.normed, layer_norm_last_dim(base + a, *ours_norm)));
    }
    const at::Tensor w = torch::randn(yb.sizes());
    (ya.normed * w).sum().backward();
    (yb * w).sum().backward();
    EXPECT_TRUE(torch::allclose(xa.grad(), xb.grad(), 1e-4, 1e-5)) << (xa.grad() - xb.grad()).abs().max();
    EXPECT_TRUE(torch::allclose(ours_norm->weight.grad(), aten_norm->weight.grad(), 1e-4, 1e-4));
    EXPECT_TRUE(torch::allclose(ours_norm->bias.grad(), aten_norm->bias.grad(), 1e-4, 1e-4));
  }
}

TEST(LayerNormRows, NaNInARowMakesThatRowNaNOnly) {
  torch::NoGradGuard no_grad;
  torch::nn::LayerNorm norm = random_norm(50, 1e-6);
  at::Tensor x = torch::randn({3, 50});
  x.index_put_({1, 49}, std::numeric_limits<float>::quiet_NaN());
  const at::Tensor y = layer_norm_last_dim(x, *norm);
  EXPECT_TRUE(torch::isnan(y[1]).all().item<bool>());
  EXPECT_FALSE(torch::isnan(y[0]).any().item<bool>());
  EXPECT_FALSE(torch::isnan(y[2]).any().item<bool>());
}

TEST(LayerNormRows, OtherDtypesAndShapesGoToATen) {
  torch::NoGradGuard no_grad;
  torch::nn::LayerNorm norm = random_norm(8, 1e-5);
  norm->to(torch::kDouble);
  const at::Tensor x = torch::randn({4, 8}, torch::kDouble);
  EXPECT_TRUE(torch::equal(layer_norm_last_dim(x, *norm), norm->forward(x)));
  // A residual of another shape (broadcast) is added by ATen, then normalised.
  torch::nn::LayerNorm f = random_norm(8, 1e-5);
  const at::Tensor y = torch::randn({4, 8}), row = torch::randn({8});
  const SumAndNormed r = add_then_layer_norm(y, row, *f);
  EXPECT_TRUE(torch::equal(r.sum, y + row));
  EXPECT_TRUE(torch::allclose(r.normed, f->forward(y + row), 1e-5, 1e-5));
  // An empty batch gives an empty result.
  EXPECT_EQ(layer_norm_last_dim(torch::randn({0, 8}), *f).numel(), 0);
}

// The portable kernel (CPUs without AVX-512) gives what the dispatched one gives: with and
// without the fused addition, its sum, mean and 1/std, for row lengths with and without a tail.
TEST(LayerNormRows, PortableKernelMatchesTheDispatchedOne) {
  for (int64_t n : {1, 7, 16, 50, 64, 96}) {
    const int64_t rows = 5;
    const at::Tensor x = torch::randn({rows, n}) * 2 + 1, a = torch::randn({rows, n});
    const at::Tensor w = torch::rand({n}) + 0.5, b = torch::randn({n});
    for (const bool fused : {false, true}) {
      at::Tensor out1 = torch::empty({rows, n}), out2 = torch::empty({rows, n});
      at::Tensor sum1 = torch::empty({rows, n}), sum2 = torch::empty({rows, n});
      at::Tensor m1 = torch::empty({rows}), m2 = torch::empty({rows});
      at::Tensor r1 = torch::empty({rows}), r2 = torch::empty({rows});
      const float* add = fused ? a.data_ptr<float>() : nullptr;
      layer_norm_rows_of(x.data_ptr<float>(), add, sum1.data_ptr<float>(), out1.data_ptr<float>(),
                         w.data_ptr<float>(), b.data_ptr<float>(), rows, n, 1e-6f,
                         m1.data_ptr<float>(), r1.data_ptr<float>());
      layer_norm_rows_portable_of(x.data_ptr<float>(), add, sum2.data_ptr<float>(),
                                  out2.data_ptr<float>(), w.data_ptr<float>(), b.data_ptr<float>(),
                                  rows, n, 1e-6f, m2.data_ptr<float>(), r2.data_ptr<float>());
      EXPECT_TRUE(torch::allclose(out1, out2, 1e-5, 1e-5)) << "n " << n << " fused " << fused;
      EXPECT_TRUE(torch::allclose(m1, m2, 1e-5, 1e-6)) << "n " << n;
      EXPECT_TRUE(torch::allclose(r1, r2, 1e-4, 1e-6)) << "n " << n;
      if (fused) {
        EXPECT_TRUE(torch::equal(sum1, x + a)) << "n " << n;
        EXPECT_TRUE(torch::equal(sum2, x + a)) << "n " << n;
      }
    }
  }
}

}  // namespace
}  // namespace vitc
