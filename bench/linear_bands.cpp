// Linear layers on 2 cores: ATen's at::linear with OpenBLAS threaded (vitc's threads before
// 2026-12-07: torch 1, BLAS = cores) against vitc::linear's row bands on torch's intra-op threads
// with OpenBLAS single-threaded (model/linear.h), and at::linear under those same threads, on the
// layer shapes of fm_small (batch 64) and deit_small (batch 8), forward and forward + backward.
// The settings alternate in rounds in one process; medians and ratios.
//   bench_linear_bands [--reps 30]
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include "bench_main.h"
#include "model/linear.h"
#include "report/latency.h"
#include "util/progress.h"
#include "util/threads.h"

int main(int argc, char** argv) {
  CLI::App app{"linear layers: OpenBLAS threads vs row bands on torch's threads"};
  int reps = 30;
  app.add_option("--reps", reps, "timed repetitions per shape")->check(CLI::PositiveNumber)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return vitc::bench::report_errors([&] {
    const int cores = vitc::hardware_cores();
    const vitc::ThreadSettings blas_threaded{1, cores}, torch_threaded{cores, 1};
    std::printf("A: %s, at::linear\n", vitc::configure_threads(blas_threaded).c_str());
    std::printf("B: %s, vitc::linear (row bands)\nC: the same threads, at::linear\n",
                vitc::configure_threads(torch_threaded).c_str());
    struct Shape {
      std::string name;
      int64_t rows, in, out;
    };
    const std::vector<Shape> shapes = {{"fm_small qkv b64", 3200, 64, 192},
                                       {"fm_small fc1 b64", 3200, 64, 256},
                                       {"fm_small fc2 b64", 3200, 256, 64},
                                       {"deit_small qkv b8", 1576, 384, 1152},
                                       {"deit_small fc1 b8", 1576, 384, 1536},
                                       {"deit_small fc2 b8", 1576, 1536, 384}};
    std::printf("| layer | pass | A (ms) | B (ms) | C (ms) | B/A | C/A |\n|---|---|---|---|---|---|---|\n");
    for (const Shape& s : shapes) {
      for (const bool backward : {false, true}) {
        const at::Tensor x = torch::randn({s.rows, s.in}).requires_grad_(backward);
        const at::Tensor w = (torch::randn({s.out, s.in}) * 0.05).requires_grad_(backward);
        const at::Tensor b = torch::randn({s.out}).requires_grad_(backward);
        const at::Tensor g = torch::randn({s.rows, s.out});
        const auto run = [&](bool bands) {
          vitc::Stopwatch watch;
          at::Tensor y = bands ? vitc::linear(x, w, b) : torch::linear(x, w, b);
          if (backward) {
            y.backward(g);
            for (const at::Tensor& t : {x, w, b}) t.mutable_grad().reset();
          }
          return watch.seconds();
        };
        // Changing thread counts costs a few ms once (OpenBLAS and OpenMP resize their pools), so
        // the settings alternate in rounds, each round warmed up before it is timed.
        std::vector<double> ta, tb, tc;
        const int rounds = 5, per_round = (reps + rounds - 1) / rounds;
        const auto time_round = [&](const vitc::ThreadSettings& threads, bool bands,
                                    std::vector<double>& into) {
          vitc::configure_threads(threads);
          for (int r = -3; r < per_round; ++r) {  // 3 untimed repetitions first
            const double t = run(bands);
            if (r >= 0) into.push_back(t);
          }
        };
        for (int round = 0; round < rounds; ++round) {
          time_round(blas_threaded, false, ta);
          time_round(torch_threaded, true, tb);
          time_round(torch_threaded, false, tc);
        }
        const double ma = vitc::median_of(ta), mb = vitc::median_of(tb), mc = vitc::median_of(tc);
        std::printf("| %s | %s | %.3f | %.3f | %.3f | %.2f | %.2f |\n", s.name.c_str(),
                    backward ? "fwd+bwd" : "fwd", ma * 1e3, mb * 1e3, mc * 1e3, mb / ma, mc / ma);
      }
    }
    return 0;
  });
}
