// model/head_attention.h: both one-head kernels (fused AVX-512 and sgemm) against ATen's
// softmax((q s) k^T) v in double for every q/k and v width from 0 to 40 (register blocks of 16
// and their remainders), token counts around the 16-query vectors, rows read and written in
// place at offsets and strides, scores large enough to overflow an exponential taken without the
// maximum subtracted, and NaN.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>
#include <vector>

#include "model/cblas_sgemm.h"
#include "model/head_attention.h"

namespace vitc {
namespace {

enum class Kernel { fused, by_sgemm };

void run(Kernel kernel, const HeadAttentionTask& task, float* scratch) {
  if (kernel == Kernel::fused) {
    head_attention_fused(task, scratch);
  } else {
    head_attention_by_sgemm(task, scratch);
  }
}

// One image's rows [n, width]: q at q_col, k at k_col, v at v_col; the kernel's output written
// into out [n, out_width] at out_col, compared with ATen's on the same columns.
void expect_matches_aten(Kernel kernel, int64_t n, int qk_dim, int v_dim, float scale, float spread,
                         double tolerance = 2e-5) {
  const int q_col = 3, k_col = q_col + qk_dim + 2, v_col = k_col + qk_dim + 1;
  const int64_t width = v_col + v_dim + 5;
  const at::Tensor rows = torch::randn({n, width}) * spread;
  const int out_col = 2;
  const int64_t out_width = out_col + v_dim + 3;
  at::Tensor out = torch::full({n, out_width}, 7.0f);
  HeadAttentionScratch scratch(n, qk_dim);
  const float* r = rows.data_ptr<float>();
  run(kernel,
      HeadAttentionTask{r + q_col, r + k_col, r + v_col, width, n, qk_dim, v_dim, scale,
                        out.data_ptr<float>() + out_col, out_width},
      scratch.data());

  const at::Tensor q = rows.narrow(1, q_col, qk_dim).to(torch::kDouble) * scale;
  const at::Tensor k = rows.narrow(1, k_col, qk_dim).to(torch::kDouble);
  const at::Tensor v = rows.narrow(1, v_col, v_dim).to(torch::kDouble);
  const at::Tensor expected = torch::matmul(torch::softmax(torch::matmul(q, k.t()), -1), v);
  const at::Tensor got = out.narrow(1, out_col, v_dim).to(torch::kDouble);
  SCOPED_TRACE(testing::Message() << n << " tokens, q/k " << qk_dim << ", v " << v_dim
                                  << ", scale " << scale << ", spread " << spread);
  ASSERT_TRUE(torch::isfinite(got).all().item<bool>());
  EXPECT_TRUE(torch::allclose(got, expected, tolerance, tolerance))
      << "max difference " << (got - expected).abs().max().item<double>();
  // Columns outside the head's output are left as they were.
  EXPECT_TRUE(torch::equal(out.narrow(1, 0, out_col), torch::full({n, out_col}, 7.0f)));
  EXPECT_TRUE(torch::equal(out.narrow(1, out_col + v_dim, 3), torch::full({n, 3}, 7.0f)));
}

class HeadAttention : public testing::TestWithParam<Kernel> {
 protected:
  void SetUp() override {
    if (GetParam() == Kernel::fused && !head_attention_fused_available()) {
      GTEST_SKIP() << "this CPU has no AVX-512F";
    }
    if (GetParam() == Kernel::by_sgemm && cblas_sgemm_or_null() == nullptr) {
      GTEST_SKIP() << "no cblas_sgemm in this process";
    }
    torch::manual_seed(11);
  }
};

TEST_P(HeadAttention, MatchesATenForEveryWidthUpTo40) {
  for (int qk = 0; qk <= 40; ++qk) {
    for (int v = 0; v <= 40; v += (qk % 3) + 1) {
      expect_matches_aten(GetParam(), 50, qk, v, 0.25f, 1.0f);
    }
  }
}

TEST_P(HeadAttention, MatchesATenForTokenCountsAroundTheVectors) {
  for (const int64_t n : {1, 2, 3, 4, 5, 15, 16, 17, 31, 32, 33, 49, 197}) {
    expect_matches_aten(GetParam(), n, 16, 16, 0.25f, 1.0f);
    expect_matches_aten(GetParam(), n, 5, 3, 0.5f, 1.0f);
    expect_matches_aten(GetParam(), n, 64, 64, 0.125f, 1.0f);
  }
}

TEST_P(HeadAttention, LargeScoresStayFinite) {
  // Scores of several hundred: e^score overflows float unless the maximum is subtracted first.
  // A float score of ~500 is rounded by ~3e-5, which moves the weights by as much: the
  // tolerance follows the problem's conditioning, not the kernels.
  expect_matches_aten(GetParam(), 50, 16, 16, 1.0f, 6.0f, 1e-3);
  expect_matches_aten(GetParam(), 33, 3, 20, 4.0f, 4.0f, 1e-3);
}

TEST_P(HeadAttention, NaNInAQueryGivesNaNForThatQueryOnly) {
  const int64_t n = 20;
  const int d = 4, width = 3 * d;
  at::Tensor rows = torch::randn({n, width});
  rows[5][1] = std::numeric_limits<float>::quiet_NaN();  // query 5's q
  at::Tensor out = torch::zeros({n, d});
  HeadAttentionScratch scratch(n, d);
  const float* r = rows.data_ptr<float>();
  run(GetParam(),
      HeadAttentionTask{r, r + d, r + 2 * d, width, n, d, d, 0.5f, out.data_ptr<float>(), d},
      scratch.data());
  EXPECT_TRUE(torch::isnan(out[5]).all().item<bool>());
  EXPECT_TRUE(torch::isfinite(out.narrow(0, 0, 5)).all().item<bool>());
  EXPECT_TRUE(torch::isfinite(out.narrow(0, 6, n - 6)).all().item<bool>());
}

INSTANTIATE_TEST_SUITE_P(Kernels, HeadAttention, testing::Values(Kernel::fused, Kernel::by_sgemm),
                         [](const testing::TestParamInfo<Kernel>& info) {
                           return info.param == Kernel::fused ? "fused" : "by_sgemm";
                         });

}  // namespace
}  // namespace vitc
