// model/attention_by_heads.h: attention over heads of any widths against an ATen reference head
// by head (values and gradients), and a compact model with uneven heads in inference against its
// training forward.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <vector>

#include "model/attention_by_heads.h"
#include "model/slice.h"
#include "model/structure.h"
#include "model/vit.h"

namespace vitc {
namespace {

// softmax((q * scale) k^T) v per head with ATen, outputs side by side.
at::Tensor reference(const at::Tensor& qkv, const std::vector<HeadColumns>& heads, double scale,
                     int qk_total) {
  std::vector<at::Tensor> outputs;
  for (const HeadColumns& h : heads) {
    const at::Tensor q = qkv.narrow(-1, h.q_offset, h.qk_dim) * scale;
    const at::Tensor k = qkv.narrow(-1, qk_total + h.q_offset, h.qk_dim);
    const at::Tensor v = qkv.narrow(-1, 2 * qk_total + h.v_offset, h.v_dim);
    outputs.push_back(torch::matmul(torch::softmax(torch::matmul(q, k.transpose(1, 2)), -1), v));
  }
  return torch::cat(outputs, -1);
}

TEST(AttentionByHeads, MatchesATenHeadByHeadForUnevenWidths) {
  torch::manual_seed(1);
  // (qk, v) widths 16/16, 10/3, 1/7, 5/5: offsets are running sums.
  const std::vector<HeadColumns> heads = {{0, 16, 0, 16}, {16, 10, 16, 3}, {26, 1, 19, 7},
                                          {27, 5, 26, 5}};
  const int qk_total = 32, v_total = 31;
  torch::NoGradGuard no_grad;
  for (const int64_t tokens : {50, 7, 1}) {
    const at::Tensor qkv = torch::randn({3, tokens, 2 * qk_total + v_total});
    ASSERT_TRUE(attention_by_heads_applies(qkv));
    const at::Tensor ours = attention_by_heads(qkv, heads, 0.25, qk_total, v_total);
    const at::Tensor theirs = reference(qkv, heads, 0.25, qk_total);
    ASSERT_EQ(ours.sizes(), theirs.sizes());
    EXPECT_TRUE(torch::allclose(ours, theirs, 1e-5, 1e-5))
        << tokens << " tokens: max difference " << (ours - theirs).abs().max().item<float>();
  }
}

TEST(AttentionByHeads, OnFloat32CpuTensorsWithOrWithoutAutograd) {
  const at::Tensor x = torch::zeros({2, 5, 12});
  EXPECT_TRUE(attention_by_heads_applies(x)) << "autograd on";
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(attention_by_heads_applies(x));
  EXPECT_FALSE(attention_by_heads_applies(x.to(torch::kDouble)));
  EXPECT_THROW(attention_by_heads(torch::zeros({2, 5, 11}), {{0, 2, 0, 2}}, 1.0, 2, 2),
               std::exception)
      << "a width that does not match the heads";
  EXPECT_THROW(attention_by_heads(torch::zeros({2, 5, 12}), {{0, 2, 3, 2}}, 1.0, 4, 4),
               std::exception)
      << "a head's columns outside the v width";
}

// The backward (each run of equal heads recomputed with batched products) against autograd
// through the ATen reference in float64; runs of 2 and 1 heads, a head without q/k dims.
TEST(AttentionByHeads, GradientsMatchATenAutograd) {
  torch::manual_seed(3);
  const std::vector<HeadColumns> heads = {{0, 8, 0, 6}, {8, 8, 6, 6}, {16, 3, 12, 9},
                                          {19, 0, 21, 4}, {19, 5, 25, 5}};
  const int qk_total = 24, v_total = 30;
  const at::Tensor base = torch::randn({3, 17, 2 * qk_total + v_total});
  const at::Tensor upstream = torch::randn({3, 17, v_total});
  at::Tensor ours_in = base.clone().requires_grad_(true);
  const at::Tensor ours = attention_by_heads(ours_in, heads, 0.3, qk_total, v_total);
  ASSERT_TRUE(ours.requires_grad());
  (ours * upstream).sum().backward();
  at::Tensor ref_in = base.to(torch::kDouble).requires_grad_(true);
  const at::Tensor theirs = reference(ref_in, heads, 0.3, qk_total);
  (theirs * upstream.to(torch::kDouble)).sum().backward();
  EXPECT_TRUE(torch::allclose(ours.detach().to(torch::kDouble), theirs.detach(), 1e-5, 1e-5));
  const at::Tensor g = ours_in.grad().to(torch::kDouble), expected = ref_in.grad();
  EXPECT_TRUE(torch::allclose(g, expected, 1e-4, 1e-5))
      << "max difference " << (g - expected).abs().max().item<double>();
}

TEST(AttentionByHeads, ACompactModelInInferenceComputesWhatItsTrainingPathComputes) {
  torch::manual_seed(2);
  VisionTransformer source = make_model(named_config("fm_small"), 3);
  Structure s = dense_structure(source->config());
  for (size_t b = 0; b < s.blocks.size(); ++b) {  // q/k and v widths that differ per head
    for (size_t h = 0; h < s.blocks[b].heads.size(); ++h) {
      s.blocks[b].heads[h].qk.resize(16 - 3 * h);
      s.blocks[b].heads[h].v.resize(4 + 3 * h + b % 3);
    }
  }
  VisionTransformer compact = slice_model(*source, s);
  compact->eval();
  const at::Tensor images = torch::randn({4, 1, 28, 28});
  at::Tensor inference;
  {
    torch::NoGradGuard no_grad;
    inference = compact->forward(images);
  }
  const at::Tensor training_path = compact->forward(images).detach();  // autograd on
  EXPECT_TRUE(torch::allclose(inference, training_path, 1e-5, 1e-5))
      << "max difference " << (inference - training_path).abs().max().item<float>();
}

}  // namespace
}  // namespace vitc
