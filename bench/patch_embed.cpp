// A patch embedding: ATen's convolution (then flatten and transpose to tokens) against patch rows
// times the flattened kernel (model/patch_rows.h, vitc::linear), interleaved repetition by
// repetition in one process, on one batch slice of fm_small (4 x 4 patches of 28 x 28 images),
// deit_small (16 x 16 of 224 x 224) and swin_tiny (4 x 4 of 224 x 224); medians and ratios.
//   bench_patch_embed [--reps 200] [--threads 1]
#include <cstdio>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "kernel_bench.h"
#include "model/linear.h"
#include "model/patch_rows.h"
#include "util/allocator.h"

int main(int argc, char** argv) {
  return vitc::bench::kernel_bench_main(
      argc, argv, "Patch embedding: ATen's convolution vs patch rows and one product", 200,
      [&](int reps) {
        std::printf("%s\n", vitc::configure_allocator(true).c_str());  // as vitc's commands do
        struct Shape {
          std::string name;
          int64_t images, channels, size, patch, dim;
        };
        const std::vector<Shape> shapes = {
            {"fm_small, 32 images, 4x4 of 28x28 -> 64", 32, 1, 28, 4, 64},
            {"deit_small, 4 images, 16x16 of 224x224 -> 384", 4, 3, 224, 16, 384},
            {"swin_tiny, 1 image, 4x4 of 224x224 -> 96", 1, 3, 224, 4, 96}};
        torch::NoGradGuard no_grad;
        std::printf("| patches | convolution (us) | patch rows + product (us) | ratio |\n"
                    "|---|---|---|---|\n");
        for (const Shape& s : shapes) {
          torch::nn::Conv2d conv(
              torch::nn::Conv2dOptions(s.channels, s.dim, s.patch).stride(s.patch));
          const at::Tensor x = torch::randn({s.images, s.channels, s.size, s.size});
          const at::Tensor w = conv->weight.reshape({s.dim, -1});
          const auto [by_conv, by_rows] = vitc::bench::interleaved_medians(
              reps, [&] { (void)conv->forward(x).flatten(2).transpose(1, 2).contiguous(); },
              [&] { (void)vitc::linear(vitc::patch_rows(x, s.patch), w, conv->bias); });
          std::printf("| %s | %.1f | %.1f | %.2f |\n", s.name.c_str(), by_conv * 1e6, by_rows * 1e6,
                      by_rows / by_conv);
        }
        return 0;
      });
}
