// Group norms against an independent computation: timm's qkv layout reshaped to
// [3, heads, head_dim, dim] and the MLP weights summed along the other axis.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "compress/common/group_norms.h"
#include "model/slice_test_util.h"

namespace vitc {
namespace {

TEST(GroupNorms, MatchReshapedWeights) {
  VisionTransformer model =
      make_model(make_uniform_config("tiny", 28, 7, 1, 10, 64, 3, 4, 2.0, false), 0);
  test::randomize_parameters(*model, 3);
  const std::vector<BlockGroupNorms> norms = group_norms(*model);
  ASSERT_EQ(norms.size(), 3u);
  for (int b = 0; b < 3; ++b) {
    Block block = model->block(b);
    const at::Tensor qkv = block->attn->qkv->weight.detach().view({3, 4, 16, 64});
    const at::Tensor qkv_b = block->attn->qkv->bias.detach().view({3, 4, 16});
    const at::Tensor proj = block->attn->proj->weight.detach().view({64, 4, 16});
    const at::Tensor heads = (qkv.pow(2).sum(at::IntArrayRef{0, 2, 3}) + qkv_b.pow(2).sum(at::IntArrayRef{0, 2}) +
                              proj.pow(2).sum(at::IntArrayRef{0, 2}))
                                 .sqrt();
    ASSERT_EQ(norms[b].heads.size(), 4u);
    for (int h = 0; h < 4; ++h) EXPECT_NEAR(norms[b].heads[h], heads[h].item<double>(), 1e-4);
    const at::Tensor fc1 = block->mlp->fc1->weight.detach();
    const at::Tensor neurons = (fc1.pow(2).sum(1) + block->mlp->fc1->bias.detach().pow(2) +
                                block->mlp->fc2->weight.detach().t().pow(2).sum(1))
                                   .sqrt();
    ASSERT_EQ(norms[b].mlp.size(), 128u);
    for (int n = 0; n < 128; ++n) EXPECT_NEAR(norms[b].mlp[n], neurons[n].item<double>(), 1e-4);
  }
}

}  // namespace
}  // namespace vitc
