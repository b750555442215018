// patch_rows against ATen's convolution: a patch embedding computed as patch rows times the
// flattened kernel equals the convolution (values and gradients), for several channel counts,
// patch sizes and image sizes that are not multiples of the patch; inference's copy loop and
// autograd's permutation give the same rows bit for bit.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/linear.h"
#include "model/patch_rows.h"
#include "model/vit.h"

namespace vitc {
namespace {

struct Case {
  int64_t batch, channels, height, width, patch;
};

TEST(PatchRows, TimesTheFlattenedKernelIsTheConvolution) {
  torch::manual_seed(2);
  for (const Case& c : {Case{3, 1, 28, 28, 4}, Case{2, 3, 32, 32, 16}, Case{2, 3, 30, 27, 4},
                        Case{1, 2, 8, 8, 8}, Case{4, 1, 28, 28, 2}}) {
    torch::nn::Conv2d conv(torch::nn::Conv2dOptions(c.channels, 24, c.patch).stride(c.patch));
    const at::Tensor x = torch::randn({c.batch, c.channels, c.height, c.width});
    const at::Tensor reference = conv->forward(x).flatten(2).transpose(1, 2);
    const at::Tensor w = conv->weight.reshape({24, -1});
    at::Tensor rows, ours;
    {
      torch::NoGradGuard no_grad;
      rows = patch_rows(x, c.patch);
      ours = linear(rows, w, conv->bias);
    }
    ASSERT_EQ(ours.sizes(), reference.sizes()) << c.height << "x" << c.width << " p" << c.patch;
    EXPECT_TRUE(torch::allclose(ours, reference, 1e-5, 1e-5)) << (ours - reference).abs().max();
    // Autograd's permutation gathers the same rows as inference's loop.
    const at::Tensor xg = x.clone().requires_grad_(true);
    const at::Tensor graph_rows = patch_rows(xg, c.patch);
    ASSERT_TRUE(graph_rows.requires_grad());
    EXPECT_TRUE(torch::equal(graph_rows.detach(), rows));
    // Gradients against the convolution's.
    const at::Tensor grad = torch::randn_like(reference);
    linear(graph_rows, w, conv->bias).backward(grad);
    const at::Tensor ours_x = xg.grad().clone(), ours_w = conv->weight.grad().clone();
    const at::Tensor ours_b = conv->bias.grad().clone();
    conv->zero_grad();
    const at::Tensor xr = x.clone().requires_grad_(true);
    conv->forward(xr).flatten(2).transpose(1, 2).backward(grad);
    EXPECT_TRUE(torch::allclose(ours_x, xr.grad(), 1e-4, 1e-5));
    EXPECT_TRUE(torch::allclose(ours_w, conv->weight.grad(), 1e-4, 1e-4));
    EXPECT_TRUE(torch::allclose(ours_b, conv->bias.grad(), 1e-4, 1e-4));
  }
}

TEST(PatchRows, PatchEmbedTakesThemOnTheCpuAndMatchesTheConvolution) {
  torch::manual_seed(4);
  PatchEmbed embed(3, 32, 4);
  const at::Tensor x = torch::randn({2, 3, 28, 28});
  torch::NoGradGuard no_grad;
  const at::Tensor ours = embed->forward(x);
  const at::Tensor reference = embed->proj->forward(x).flatten(2).transpose(1, 2);
  EXPECT_TRUE(torch::allclose(ours, reference, 1e-5, 1e-5)) << (ours - reference).abs().max();
  // Other dtypes keep ATen's convolution.
  embed->to(torch::kDouble);
  const at::Tensor xd = x.to(torch::kDouble);
  EXPECT_TRUE(torch::equal(embed->forward(xd),
                           embed->proj->forward(xd).flatten(2).transpose(1, 2)));
}

TEST(PatchRows, BadShapesAreRefused) {
  EXPECT_THROW(patch_rows(torch::randn({3, 28, 28}), 4), std::exception);
  EXPECT_THROW(patch_rows(torch::randn({1, 1, 28, 28}), 0), std::exception);
}

}  // namespace
}  // namespace vitc
