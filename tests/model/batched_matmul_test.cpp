// batched_matmul against an independent float64 computation (torch::matmul in double), forward
// and both gradients, on the operand layouts attention produces: contiguous, heads cut out of a
// [B, N, H, d] tensor, keys transposed (column-major), strides that fit neither (copied), single
// rows and columns; with one and two torch threads. Shapes it does not take go to torch::matmul.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/Parallel.h>

#include "model/batched_matmul.h"
#include "util/compute.h"
#include "util/threads.h"

namespace vitc {
namespace {

struct Result {
  at::Tensor out, grad_a, grad_b;
};

// out = f(a, b); the loss weighs every output element differently, so a misplaced gradient shows.
template <typename F>
Result run(F f, const at::Tensor& a_in, const at::Tensor& b_in, const at::Tensor& weights) {
  const at::Tensor a = a_in.detach().requires_grad_(true);
  const at::Tensor b = b_in.detach().requires_grad_(true);
  const at::Tensor out = f(a, b);
  (out * weights.to(out.dtype())).sum().backward();
  return {out.detach(), a.grad(), b.grad()};
}

void expect_matches_float64(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor weights = torch::randn(torch::matmul(a, b).sizes());
  const Result got = run([](const at::Tensor& x, const at::Tensor& y) { return batched_matmul(x, y); },
                         a, b, weights);
  // Reference: the same strided views taken of float64 copies.
  const auto to_double = [](const at::Tensor& t) { return t.to(torch::kDouble); };
  const Result want =
      run([](const at::Tensor& x, const at::Tensor& y) { return torch::matmul(x, y); },
          to_double(a), to_double(b), weights.to(torch::kDouble));
  ASSERT_EQ(got.out.sizes(), want.out.sizes());
  EXPECT_LT((got.out.to(torch::kDouble) - want.out).abs().max().item<double>(), 1e-4);
  EXPECT_LT((got.grad_a.to(torch::kDouble) - want.grad_a).abs().max().item<double>(), 1e-4);
  EXPECT_LT((got.grad_b.to(torch::kDouble) - want.grad_b).abs().max().item<double>(), 1e-4);
}

class BatchedMatmulThreads : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    saved_threads_ = at::get_num_threads();
    at::set_num_threads(GetParam());
    torch::manual_seed(7);
  }
  void TearDown() override { at::set_num_threads(saved_threads_); }
  int saved_threads_ = 1;
};

TEST_P(BatchedMatmulThreads, ContiguousOperands) {
  expect_matches_float64(torch::randn({4, 3, 49, 16}), torch::randn({4, 3, 16, 49}));
  expect_matches_float64(torch::randn({37, 5, 7}), torch::randn({37, 7, 9}));
}

TEST_P(BatchedMatmulThreads, HeadsCutFromTokensAndTransposedKeys) {
  // q, k, v as attention takes them from one [B, N, 3, H, d] projection: strided heads, and
  // k^T a column-major view.
  const at::Tensor qkv = torch::randn({4, 49, 3, 2, 16});
  const at::Tensor q = qkv.select(2, 0).transpose(1, 2);  // [4, 2, 49, 16], rows 96 apart
  const at::Tensor k = qkv.select(2, 1).transpose(1, 2);
  const at::Tensor v = qkv.select(2, 2).transpose(1, 2);
  expect_matches_float64(q, k.transpose(-2, -1));
  expect_matches_float64(torch::randn({4, 2, 49, 49}).softmax(-1), v);
  expect_matches_float64(q.transpose(-2, -1), torch::randn({4, 2, 49, 5}));
}

TEST_P(BatchedMatmulThreads, StridesThatFitNeitherLayoutAndSingleRows) {
  const at::Tensor every_other_column = torch::randn({3, 6, 10}).slice(-1, 0, 10, 2);  // [3, 6, 5]
  expect_matches_float64(every_other_column, torch::randn({3, 5, 4}));
  expect_matches_float64(torch::randn({3, 1, 7}), torch::randn({3, 7, 1}));
  expect_matches_float64(torch::randn({2, 8, 1}), torch::randn({2, 1, 8}));
}

INSTANTIATE_TEST_SUITE_P(TorchThreads, BatchedMatmulThreads, ::testing::Values(1, 2));

TEST(BatchedMatmul, TakesItsOwnPathWhereTheBlasIsOpenBlas) {
  if (blas_description().find("OpenBLAS") == std::string::npos) {
    GTEST_SKIP() << "BLAS: " << blas_description() << " (at::bmm is used)";
  }
  const at::Tensor qkv = torch::randn({4, 49, 3, 2, 16});
  const at::Tensor q = qkv.select(2, 0).transpose(1, 2), k = qkv.select(2, 1).transpose(1, 2);
  EXPECT_TRUE(batched_matmul_uses_blas(q, k.transpose(-2, -1)));
  EXPECT_TRUE(batched_matmul_uses_blas(torch::randn({3, 6, 10}).slice(-1, 0, 10, 2),
                                       torch::randn({3, 5, 4})));
}

TEST(BatchedMatmul, OperandsItDoesNotTakeGoToTorchMatmul) {
  torch::manual_seed(3);
  const at::Tensor a = torch::randn({2, 3, 4, 5}), broadcast = torch::randn({1, 3, 5, 6});
  EXPECT_FALSE(batched_matmul_uses_blas(a, broadcast));
  EXPECT_TRUE(torch::equal(batched_matmul(a, broadcast), torch::matmul(a, broadcast)));
  const at::Tensor a64 = a.to(torch::kDouble), b64 = torch::randn({2, 3, 5, 6}, torch::kDouble);
  EXPECT_FALSE(batched_matmul_uses_blas(a64, b64));
  EXPECT_TRUE(torch::equal(batched_matmul(a64, b64), torch::matmul(a64, b64)));
  EXPECT_FALSE(batched_matmul_uses_blas(torch::randn({4, 5}), torch::randn({5, 6})));
  EXPECT_FALSE(batched_matmul_uses_blas(torch::randn({2, 0, 5}), torch::randn({2, 5, 6})));
  EXPECT_THROW(batched_matmul(torch::randn({2, 4, 5}), torch::randn({2, 4, 6})), c10::Error);
  // Under bf16 autocast (--precision bf16) the products stay autocast's: bfloat16.
  const at::Tensor q = torch::randn({2, 3, 7, 5}), k = torch::randn({2, 3, 5, 7});
  set_precision(c10::Device(c10::kCPU), Precision::bf16);
  const bool blas_under_autocast = batched_matmul_uses_blas(q, k);
  const at::Tensor product = batched_matmul(q, k);
  set_precision(c10::Device(c10::kCPU), Precision::fp32);
  EXPECT_FALSE(blas_under_autocast);
  EXPECT_EQ(product.scalar_type(), at::kBFloat16);
}

}  // namespace
}  // namespace vitc
