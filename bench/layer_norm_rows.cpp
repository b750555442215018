// LayerNorm over the last dimension: vitc's row kernel (model/layer_norm_rows.h) against ATen's
// at::layer_norm, and the residual addition fused into it against x + a then at::layer_norm,
// interleaved repetition by repetition in one process, on the token shapes of fm_small,
// swin_tiny and deit_small (one batch slice of the inference path); medians and ratios.
//   bench_layer_norm_rows [--reps 200] [--threads 1]
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include "bench_main.h"
#include "kernel_bench.h"
#include "model/layer_norm_rows.h"
#include "report/latency.h"
#include "util/allocator.h"
#include "util/progress.h"
#include "util/threads.h"

int main(int argc, char** argv) {
  return vitc::bench::kernel_bench_main(
      argc, argv,
      "LayerNorm on tokens: vitc's row kernel vs ATen",
      200, [&](int reps) {
    using vitc::Stopwatch;
    std::printf("%s\n", vitc::configure_allocator(true).c_str());  // as vitc's commands do
    struct Shape {
      std::string name;
      std::vector<int64_t> sizes;
    };
    const std::vector<Shape> shapes = {{"fm_small, 32 images [32, 50, 64]", {32, 50, 64}},
                                       {"swin_tiny stage 1, 1 image [1, 3136, 96]", {1, 3136, 96}},
                                       {"deit_small, 8 images [8, 197, 384]", {8, 197, 384}}};
    torch::NoGradGuard no_grad;
    std::printf("| tokens | ATen layer_norm (us) | row kernel (us) | ratio | x + a, then ATen (us) | fused (us) | ratio |\n|---|---|---|---|---|---|---|\n");
    for (const Shape& s : shapes) {
      const int64_t dim = s.sizes.back();
      torch::nn::LayerNorm norm(torch::nn::LayerNormOptions({dim}).eps(1e-6));
      norm->weight.uniform_(0.5, 1.5);
      norm->bias.uniform_(-0.5, 0.5);
      const at::Tensor x = torch::randn(s.sizes) * 2 + 1, a = torch::randn(s.sizes);
      std::vector<double> aten, ours, aten_add, fused;
      for (int r = -5; r < reps; ++r) {  // r < 0 warms up
        Stopwatch t1;
        const at::Tensor y1 = norm->forward(x);
        const double d1 = t1.seconds();
        Stopwatch t2;
        const at::Tensor y2 = vitc::layer_norm_last_dim(x, *norm);
        const double d2 = t2.seconds();
        Stopwatch t3;
        const at::Tensor s3 = x + a;
        const at::Tensor y3 = norm->forward(s3);
        const double d3 = t3.seconds();
        Stopwatch t4;
        const vitc::SumAndNormed y4 = vitc::add_then_layer_norm(x, a, *norm);
        const double d4 = t4.seconds();
        if (r >= 0) {
          aten.push_back(d1);
          ours.push_back(d2);
          aten_add.push_back(d3);
          fused.push_back(d4);
        }
      }
      const double m1 = vitc::median_of(aten), m2 = vitc::median_of(ours);
      const double m3 = vitc::median_of(aten_add), m4 = vitc::median_of(fused);
      std::printf("| %s | %.1f | %.1f | %.2f | %.1f | %.1f | %.2f |\n", s.name.c_str(), m1 * 1e6,
                  m2 * 1e6, m2 / m1, m3 * 1e6, m4 * 1e6, m4 / m3);
    }
    return 0;
  });
}
