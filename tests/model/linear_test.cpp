// vitc::linear (row bands on torch's intra-op threads) against ATen's linear: values and every
// gradient, 2-D and 3-D inputs, with and without bias; when it splits; and that at::parallel_for
// in vitc's own code really uses the intra-op threads (the build's OpenMP flag); where the bias is
// added after the product, and linear_added_to against its two steps.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/Parallel.h>

#include <mutex>
#include <set>

#include "model/intra_op_threads.h"
#include "model/linear.h"

namespace vitc {
namespace {

using test::IntraOpThreads;

TEST(ParallelFor, RunsOnTheIntraOpThreadsInVitcsOwnCode) {
  IntraOpThreads threads(2);
  std::mutex mutex;
  std::set<int> seen;
  at::parallel_for(0, 1000, 1, [&](int64_t, int64_t) {
    std::lock_guard<std::mutex> lock(mutex);
    seen.insert(at::get_thread_num());
  });
  EXPECT_EQ(seen.size(), 2u) << "at::parallel_for ran on one thread: is vitc built with OpenMP?";
}

TEST(Linear, RowBandsMatchATenInValueAndGradients) {
  IntraOpThreads threads(2);
  torch::manual_seed(5);
  for (const bool with_bias : {true, false}) {
    for (const std::vector<int64_t>& shape : std::vector<std::vector<int64_t>>{{300, 64}, {6, 50, 64}}) {
      const at::Tensor x = torch::randn(shape).requires_grad_(true);
      const at::Tensor w = (torch::randn({96, 64}) * 0.1).requires_grad_(true);
      const at::Tensor b = with_bias ? torch::randn({96}).requires_grad_(true) : at::Tensor();
      ASSERT_TRUE(linear_splits_rows(x, w));
      const at::Tensor ours = linear(x, w, b), theirs = torch::linear(x, w, b);
      ASSERT_EQ(ours.sizes(), theirs.sizes());
      EXPECT_TRUE(torch::allclose(ours, theirs, 1e-5, 1e-5)) << (ours - theirs).abs().max();
      const at::Tensor g = torch::randn(ours.sizes());
      const auto grads_of = [&](const at::Tensor& y) {
        std::vector<at::Tensor> inputs = {x, w};
        if (with_bias) inputs.push_back(b);
        return torch::autograd::grad({y}, inputs, {g});
      };
      const auto ours_grads = grads_of(ours), theirs_grads = grads_of(theirs);
      for (size_t i = 0; i < ours_grads.size(); ++i) {
        EXPECT_TRUE(torch::allclose(ours_grads[i], theirs_grads[i], 1e-4, 1e-4))
            << "gradient " << i << ": " << (ours_grads[i] - theirs_grads[i]).abs().max();
      }
    }
  }
}

TEST(Linear, SameValuesInTrainingAndInference) {
  // A student in training and its teacher in inference must compute identical outputs.
  IntraOpThreads threads(2);
  const at::Tensor x = torch::randn({8, 50, 64});
  const at::Tensor w = torch::randn({256, 64}).requires_grad_(true), b = torch::randn({256});
  const at::Tensor training = linear(x, w, b);
  at::Tensor inference;
  {
    torch::NoGradGuard no_grad;
    inference = linear(x, w, b);
  }
  EXPECT_TRUE(torch::equal(training.detach(), inference));
}

TEST(Linear, OneThreadTrainingAndInferenceAgreeBitForBitAndMatchATen) {
  // With one thread inference calls the BLAS itself (oneDNN's sgemm where the process has it,
  // else OpenBLAS's), and so does training: the two must agree exactly, or a student drifts from
  // its teacher. Both match ATen's linear within float rounding, gradients included.
  IntraOpThreads threads(1);
  for (const std::vector<int64_t>& shape :
       std::vector<std::vector<int64_t>>{{8, 50, 64}, {3, 64}, {1, 50, 16}, {2, 197, 384}}) {
    for (const int64_t out : {1, 48, 85, 192}) {
      const at::Tensor x = torch::randn(shape).requires_grad_(true);
      const at::Tensor w = (torch::randn({out, shape.back()}) * 0.1).requires_grad_(true);
      const at::Tensor b = torch::randn({out}).requires_grad_(true);
      ASSERT_FALSE(linear_splits_rows(x, w));
      const at::Tensor training = linear(x, w, b);
      at::Tensor inference, without_bias;
      {
        torch::NoGradGuard no_grad;
        inference = linear(x, w, b);
        without_bias = linear(x, w, at::Tensor());
        const at::Tensor aten = torch::linear(x, w, at::Tensor());
        EXPECT_TRUE(torch::allclose(without_bias, aten, 1e-5, 1e-5)) << (without_bias - aten).abs().max();
      }
      EXPECT_TRUE(torch::equal(training.detach(), inference))
          << "out " << out << ": " << (training.detach() - inference).abs().max();
      const at::Tensor theirs = torch::linear(x, w, b);
      EXPECT_TRUE(torch::allclose(training, theirs, 1e-5, 1e-5)) << (training - theirs).abs().max();
      const at::Tensor g = torch::randn(training.sizes());
      const auto ours_grads = torch::autograd::grad({training}, {x, w, b}, {g});
      const auto theirs_grads = torch::autograd::grad({theirs}, {x, w, b}, {g});
      for (size_t i = 0; i < ours_grads.size(); ++i) {
        EXPECT_TRUE(torch::allclose(ours_grads[i], theirs_grads[i], 1e-4, 1e-4))
            << "gradient " << i << ": " << (ours_grads[i] - theirs_grads[i]).abs().max();
      }
    }
  }
}

TEST(Linear, SplitsOnlyFloatCpuProductsLargeEnoughWithSeveralThreads) {
  const at::Tensor x = torch::randn({3200, 64}), w = torch::randn({256, 64});
  {
    IntraOpThreads threads(1);
    EXPECT_FALSE(linear_splits_rows(x, w));
  }
  IntraOpThreads threads(2);
  EXPECT_TRUE(linear_splits_rows(x, w));
  EXPECT_FALSE(linear_splits_rows(torch::randn({2, 64}), w));  // one band's worth of rows
  EXPECT_FALSE(linear_splits_rows(x.to(torch::kDouble), w.to(torch::kDouble)));
  EXPECT_FALSE(linear_splits_rows(x, torch::randn({256, 32})));  // ATen reports the mismatch
  EXPECT_THROW(linear(x, torch::randn({256, 32}), at::Tensor()), c10::Error);
}

TEST(Linear, BiasIsAddedAfterTheProductExactlyWhereTheSgemmPathRuns) {
  const at::Tensor x = torch::randn({50, 64}), w = torch::randn({256, 64}), b = torch::randn({256});
  EXPECT_TRUE(linear_adds_bias_after_product(x, w, b));
  EXPECT_FALSE(linear_adds_bias_after_product(x, w, at::Tensor()));  // no bias to add
  EXPECT_FALSE(linear_adds_bias_after_product(x.to(torch::kDouble), w.to(torch::kDouble),
                                              b.to(torch::kDouble)));
  EXPECT_FALSE(linear_adds_bias_after_product(x, w, torch::randn({128})));  // ATen reports it
}

TEST(Linear, AddedToAResidualEqualsTheSumOfTheTwoStepsBitForBit) {
  IntraOpThreads threads(1);
  torch::NoGradGuard no_grad;
  torch::nn::Linear layer(64, 96);
  const at::Tensor x = torch::randn({4, 50, 64}), residual = torch::randn({4, 50, 96});
  EXPECT_TRUE(torch::equal(linear_added_to(residual, x, layer), residual + apply_linear(layer, x)));
  // A residual of another shape broadcasts as the two steps would.
  const at::Tensor row = torch::randn({96});
  EXPECT_TRUE(torch::equal(linear_added_to(row, x, layer), row + apply_linear(layer, x)));
  EXPECT_THROW(linear_added_to(torch::randn({4, 50, 95}), x, layer), c10::Error);
}

}  // namespace
}  // namespace vitc
