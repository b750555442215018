// softmax_last_dim against ATen's softmax: row lengths around the vector width and attention's
// (49, 50, 197), large and tiny scores, -inf (masked keys) and an all -inf row; autograd falls back.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/softmax_rows.h"

namespace vitc {
namespace {

TEST(SoftmaxRows, MatchesATenWithinFloatRounding) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(3);
  for (int64_t n : {1, 7, 15, 16, 17, 33, 49, 50, 197}) {
    for (double spread : {0.1, 3.0, 40.0}) {
      const at::Tensor x = torch::randn({3, 5, n}) * spread;
      const at::Tensor ours = softmax_last_dim(x), theirs = x.softmax(-1);
      EXPECT_TRUE(torch::allclose(ours, theirs, 2e-6, 1e-9))
          << "n " << n << " spread " << spread << ": " << (ours - theirs).abs().max();
      EXPECT_TRUE(torch::allclose(ours.sum(-1), torch::ones({3, 5}), 1e-5, 1e-6));
    }
  }
}

TEST(SoftmaxRows, MinusInfinityGetsWeightZeroAndAnAllMaskedRowIsNaNAsInATen) {
  torch::NoGradGuard no_grad;
  at::Tensor x = torch::randn({4, 50});
  x.index_put_({0, torch::indexing::Slice(10, 50)}, -std::numeric_limits<float>::infinity());
  x.index_put_({1, torch::indexing::Slice()}, -std::numeric_limits<float>::infinity());
  x.index_put_({2, 3}, -100.0f);  // a Swin shift mask's value: tiny but not zero
  const at::Tensor ours = softmax_last_dim(x), theirs = x.softmax(-1);
  EXPECT_TRUE(torch::equal(ours[0].narrow(0, 10, 40), torch::zeros({40})));
  EXPECT_TRUE(torch::allclose(ours[0], theirs[0], 2e-6, 1e-9));
  EXPECT_TRUE(torch::isnan(ours[1]).all().item<bool>());
  EXPECT_TRUE(torch::isnan(theirs[1]).all().item<bool>());
  EXPECT_TRUE(torch::allclose(ours.narrow(0, 2, 2), theirs.narrow(0, 2, 2), 2e-6, 1e-12));
}

TEST(SoftmaxRows, NonContiguousInputsAndGradientsMatchATen) {
  const at::Tensor base = torch::randn({6, 50, 4});
  {
    torch::NoGradGuard no_grad;
    const at::Tensor x = base.transpose(1, 2);  // rows of 50 with stride 4
    EXPECT_TRUE(torch::allclose(softmax_last_dim(x), x.softmax(-1), 2e-6, 1e-9));
  }
  // With autograd: the same forward values as without, and ATen's gradient.
  const at::Tensor leaf_a = base.clone().requires_grad_(true);
  const at::Tensor leaf_b = base.clone().requires_grad_(true);
  const at::Tensor ya = softmax_last_dim(leaf_a.transpose(1, 2));
  const at::Tensor yb = leaf_b.transpose(1, 2).softmax(-1);
  EXPECT_TRUE(ya.requires_grad());
  {
    torch::NoGradGuard no_grad;
    EXPECT_TRUE(torch::equal(ya, softmax_last_dim(base.transpose(1, 2))));
  }
  const at::Tensor weights = torch::randn(ya.sizes());
  (ya * weights).sum().backward();
  (yb * weights).sum().backward();
  EXPECT_TRUE(torch::allclose(leaf_a.grad(), leaf_b.grad(), 1e-5, 1e-8))
      << (leaf_a.grad() - leaf_b.grad()).abs().max();
}

// softmax_rows_of on rows ld floats apart (attention_by_heads keeps 50-wide rows 64 apart):
// each row as the contiguous kernel computes it, the floats between rows untouched.
TEST(SoftmaxRows, RowsApartMatchContiguousRowsAndLeaveTheGapAlone) {
  torch::NoGradGuard no_grad;
  for (int64_t n : {1, 15, 16, 50, 197}) {
    const int64_t ld = (n + 15) / 16 * 16 + 16, rows = 9;
    const at::Tensor x = torch::randn({rows, n}) * 4;
    at::Tensor buffer = torch::full({rows, ld}, 7.0f);
    buffer.narrow(1, 0, n).copy_(x);
    softmax_rows_of(buffer.data_ptr<float>(), buffer.data_ptr<float>(), rows, n, ld);
    EXPECT_TRUE(torch::equal(buffer.narrow(1, 0, n), softmax_last_dim(x))) << "n " << n;
    EXPECT_TRUE(torch::equal(buffer.narrow(1, n, ld - n), torch::full({rows, ld - n}, 7.0f)))
        << "n " << n;
  }
}

// A NaN score makes its row NaN, as in ATen, and leaves the other rows alone.
TEST(SoftmaxRows, NaNScoreMakesItsRowNaN) {
  torch::NoGradGuard no_grad;
  at::Tensor x = torch::randn({3, 50});
  x.index_put_({1, 49}, std::numeric_limits<float>::quiet_NaN());  // in the row's tail
  x.index_put_({2, 3}, std::numeric_limits<float>::quiet_NaN());
  const at::Tensor ours = softmax_last_dim(x);
  EXPECT_TRUE(torch::isnan(ours[1]).all().item<bool>());
  EXPECT_TRUE(torch::isnan(ours[2]).all().item<bool>());
  EXPECT_TRUE(torch::allclose(ours[0], x[0].softmax(-1), 2e-6, 1e-9));
}

// The portable kernel (CPUs without AVX-512) gives what the dispatched one gives, tails included.
TEST(SoftmaxRows, PortableKernelMatchesTheDispatchedOne) {
  for (int64_t n : {1, 7, 16, 17, 50, 197}) {
    const int64_t ld = n + 3, rows = 6;
    const at::Tensor x = torch::randn({rows, ld}) * 5;
    at::Tensor a = x.clone(), b = x.clone();
    softmax_rows_of(x.data_ptr<float>(), a.data_ptr<float>(), rows, n, ld);
    softmax_rows_portable_of(x.data_ptr<float>(), b.data_ptr<float>(), rows, n, ld);
    EXPECT_TRUE(torch::allclose(a, b, 2e-6, 1e-9)) << "n " << n << ": " << (a - b).abs().max();
    EXPECT_TRUE(torch::equal(b.narrow(1, n, 3), x.narrow(1, n, 3))) << "n " << n;
  }
}

}  // namespace
}  // namespace vitc
