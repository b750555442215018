// GELU: vitc's row kernel (model/gelu.h) against ATen's gelu on the same tensor, and fc1's whole
// chain in inference, gelu_of_linear (the product, then bias and GELU in one pass) against
// ATen's gelu of vitc::linear (the product, a bias pass, then ATen's gelu), interleaved
// repetition by repetition in one process, on MLP hidden shapes of fm_small (full and a 30%
// model's 85 neurons) and deit_small (one batch slice of the inference path); medians, ratios.
//   bench_gelu [--reps 200] [--threads 1]
#include <cstdio>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "kernel_bench.h"
#include "model/gelu.h"
#include "model/linear.h"
#include "util/allocator.h"

int main(int argc, char** argv) {
  return vitc::bench::kernel_bench_main(
      argc, argv, "GELU on MLP hidden layers: vitc's row kernel vs ATen", 200, [&](int reps) {
        std::printf("%s\n", vitc::configure_allocator(true).c_str());  // as vitc's commands do
        struct Shape {
          std::string name;
          int64_t rows, in, hidden;
        };
        const std::vector<Shape> shapes = {{"fm_small, 32 images, 256 neurons", 1600, 64, 256},
                                           {"fm_small, 32 images, 85 neurons", 1600, 64, 85},
                                           {"deit_small, 4 images, 1536 neurons", 788, 384, 1536}};
        torch::NoGradGuard no_grad;
        std::printf(
            "| rows x neurons | ATen gelu (us) | row kernel (us) | ratio | linear, then ATen gelu "
            "(us) | gelu_of_linear (us) | ratio |\n|---|---|---|---|---|---|---|\n");
        for (const Shape& s : shapes) {
          torch::nn::Linear fc1(s.in, s.hidden);
          const at::Tensor x = torch::randn({s.rows, s.in});
          const at::Tensor h = vitc::linear(x, fc1->weight, fc1->bias);
          const auto [aten, ours] = vitc::bench::interleaved_medians(
              reps, [&] { (void)torch::gelu(h); }, [&] { (void)vitc::gelu(h); });
          const auto [chain, fused] = vitc::bench::interleaved_medians(
              reps, [&] { (void)torch::gelu(vitc::linear(x, fc1->weight, fc1->bias)); },
              [&] { (void)vitc::gelu_of_linear(x, fc1); });
          std::printf("| %s | %.1f | %.1f | %.2f | %.1f | %.1f | %.2f |\n", s.name.c_str(),
                      aten * 1e6, ours * 1e6, ours / aten, chain * 1e6, fused * 1e6, fused / chain);
        }
        return 0;
      });
}
