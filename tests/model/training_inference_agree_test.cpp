// A model's training forward (autograd on, dropout 0) and its inference forward (eval, no
// autograd: heads one by one, the fused LayerNorm, cblas_sgemm linear layers) compute the same
// logits bit for bit on one thread. Distillation relies on it: a student identical to its teacher
// has exactly zero loss and zero gradient (PRACTISE's recoverability of a block that does nothing
// is exactly 0). On two threads inference runs in batch slices and training in row bands, and
// OpenBLAS's sums depend on how many rows one call gets (its small-matrix kernels), so there
// the two agree to float rounding only.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/Parallel.h>

#include "model/intra_op_threads.h"
#include "model/slice_test_util.h"
#include "model/vit.h"

namespace vitc {
namespace {

using test::IntraOpThreads;

void expect_training_equals_inference(VisionTransformerImpl& model, const at::Tensor& images,
                                      bool exact) {
  model.eval();  // dropout and drop-path off in both passes; autograd decides the path
  at::Tensor inference;
  {
    torch::NoGradGuard no_grad;
    inference = model.forward(images);
  }
  const at::Tensor training = model.forward(images);
  ASSERT_TRUE(training.requires_grad());
  if (exact) {
    EXPECT_TRUE(torch::equal(training.detach(), inference))
        << (training.detach() - inference).abs().max();
  } else {
    EXPECT_TRUE(torch::allclose(training.detach(), inference, 1e-5, 1e-5))
        << (training.detach() - inference).abs().max();
  }
}

TEST(TrainingInferenceAgree, PlainViTOnOneAndTwoThreads) {
  for (const int threads : {1, 2}) {
    IntraOpThreads t(threads);
    SCOPED_TRACE(testing::Message() << threads << " torch threads");
    // dim 32 (LayerNorm rows of two vectors), 17 tokens (score rows with a masked tail)
    VisionTransformer model =
        make_model(make_uniform_config("agree", 28, 7, 1, 10, 32, 3, 2, 2.0, false), 4);
    test::randomize_parameters(*model, 4);
    expect_training_equals_inference(*model, torch::randn({5, 1, 28, 28}), threads == 1);
    // dim 64, 50 tokens: fm_small's shapes
    VisionTransformer fm =
        make_model(make_uniform_config("agree_fm", 28, 4, 1, 10, 64, 2, 4, 4.0, false), 5);
    test::randomize_parameters(*fm, 5);
    expect_training_equals_inference(*fm, torch::randn({7, 1, 28, 28}), threads == 1);
  }
}

}  // namespace
}  // namespace vitc
