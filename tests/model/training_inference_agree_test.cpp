// A model's training forward (autograd on, dropout 0) and its inference forward (eval, no
// autograd: heads one by one, the fused LayerNorm, cblas_sgemm linear layers) compute the same
// logits bit for bit on one thread. Distillation relies on it: a student identical to its teacher
// has exactly zero loss and zero gradient (PRACTISE's recoverability of a block that does nothing
// is exactly 0). On two threads inference runs in batch slices and training in row bands, and
// OpenBLAS's sums depend on how many rows one call gets (its small-matrix kernels), so there
// the two agree to float rounding only. And the forward with each LayerNorm fused into the
// residual pass before it equals the block-by-block forward.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/Parallel.h>

#include "model/intra_op_threads.h"
#include "model/layer_norm_rows.h"
#include "model/slice.h"
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

// forward_features computes each LayerNorm in the residual pass before it, with proj's and fc2's
// biases (VisionTransformerImpl::run_block): the same floats as running every block by itself and
// the final norm after, on every kind of source, compact models with skipped parts and uneven
// heads, and dropped tokens.
TEST(TrainingInferenceAgree, FusedLayerNormsEqualTheBlockByBlockForward) {
  IntraOpThreads t(1);
  uint64_t seed = 10;
  for (const ViTConfig& source : test::contract_sources()) {
    VisionTransformer dense = make_model(source, seed);
    test::randomize_parameters(*dense, seed);
    std::vector<Structure> structures = {dense_structure(source),
                                         test::random_structure(source, seed)};
    if (!source.is_swin()) {
      Structure dropped = dense_structure(source);
      for (int p = 0; p < source.num_patches() * 2 / 3; ++p) dropped.blocks[2].tokens.push_back(p);
      structures.push_back(dropped);
    }
    for (size_t k = 0; k < structures.size(); ++k) {
      SCOPED_TRACE(testing::Message() << source.name << " structure " << k);
      VisionTransformer m = slice_model(*dense, structures[k]);
      m->eval();
      const at::Tensor images =
          torch::randn({3, source.in_chans, source.img_size, source.img_size});
      torch::NoGradGuard no_grad;
      at::Tensor x = m->embed(images);
      for (int i = 0; i < m->config().depth(); ++i) x = m->block(i)->forward(m->block_input(i, x));
      const at::Tensor expected = layer_norm_last_dim(x, *m->norm);
      const at::Tensor fused = m->forward_features(images);
      EXPECT_TRUE(torch::equal(fused, expected)) << (fused - expected).abs().max();
    }
    ++seed;
  }
}

}  // namespace
}  // namespace vitc
