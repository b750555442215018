// softmax over attention's last dimension: vitc's row kernel (model/softmax_rows.h) against
// ATen's at::softmax, interleaved repetition by repetition in one process, on the score shapes
// of fm_small, fm_swin, swin_tiny and deit_small at inference batch sizes; medians and ratio.
//   bench_softmax_rows [--reps 30] [--threads 1]
#include <algorithm>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include "bench_main.h"
#include "kernel_bench.h"
#include "model/softmax_rows.h"
#include "report/latency.h"
#include "util/progress.h"
#include "util/threads.h"

int main(int argc, char** argv) {
  return vitc::bench::kernel_bench_main(
      argc, argv,
      "softmax on attention scores: vitc's row kernel vs ATen",
      30, [&](int reps) {
    struct Shape {
      std::string name;
      std::vector<int64_t> sizes;
    };
    const std::vector<Shape> shapes = {{"fm_small b64 (4 heads, 50 tokens)", {64, 4, 50, 50}},
                                       {"fm_swin stage 1 b64 (4 windows, 2 heads, 49)", {256, 2, 49, 49}},
                                       {"swin_tiny stage 1 b8 (64 windows, 3 heads, 49)", {512, 3, 49, 49}},
                                       {"deit_small b8 (6 heads, 197 tokens)", {8, 6, 197, 197}}};
    torch::NoGradGuard no_grad;
    std::printf("| scores | ATen softmax (ms) | row kernel (ms) | ratio |\n|---|---|---|---|\n");
    for (const Shape& s : shapes) {
      const at::Tensor x = torch::randn(s.sizes) * 3;
      const auto [ma, mo] = vitc::bench::interleaved_medians(
          reps, [&] { at::Tensor y = x.softmax(-1); }, [&] { at::Tensor y = vitc::softmax_last_dim(x); });
      std::printf("| %s | %.3f | %.3f | %.2f |\n", s.name.c_str(), ma * 1e3, mo * 1e3, mo / ma);
    }
    // One head's scores as attention_by_heads holds them: a 50 x 50 buffer in L1 just written (by
    // a copy here, by the q k^T product there), softmax in place; rows packed 50 floats apart
    // against rows 64 floats apart in a 64-byte-aligned buffer (each row on a cache line).
    std::printf("\n| one head in L1, 256 heads | rows 50 apart (ms) | rows 64 apart, aligned (ms) | ratio |\n|---|---|---|---|\n");
    {
      const int64_t n = 50, ld = 64, heads = 256;
      const at::Tensor x = torch::randn({n, n}) * 3;
      // CPU tensors are allocated on 64-byte boundaries (c10's alignment).
      at::Tensor packed = at::empty({n * n}), strided = at::empty({n * ld});
      float* a = packed.data_ptr<float>();
      float* b = strided.data_ptr<float>();
      const float* src = x.data_ptr<float>();
      const auto [m50, m64] = vitc::bench::interleaved_medians(
          reps,
          [&] {
            for (int64_t h = 0; h < heads; ++h) {
              std::copy(src, src + n * n, a);
              vitc::softmax_rows_of(a, a, n, n, n);
            }
          },
          [&] {
            for (int64_t h = 0; h < heads; ++h) {
              for (int64_t row = 0; row < n; ++row) std::copy(src + row * n, src + (row + 1) * n, b + row * ld);
              vitc::softmax_rows_of(b, b, n, n, ld);
            }
          });
      std::printf("| fm_small (50 tokens) | %.3f | %.3f | %.2f |\n", m50 * 1e3, m64 * 1e3, m64 / m50);
    }
    return 0;
  });
}
