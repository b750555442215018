// vitc::batched_matmul against torch::matmul (at::bmm) on attention's shapes, forward and
// backward of scores = q k^T and out = softmax(scores) v, interleaved repetition by repetition in
// one process; prints medians and their ratio as a Markdown table.
//   bench_batched_matmul [--reps 15] [--threads 1] [--blas-threads 1] [--flush-denormals 1]
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include "bench_main.h"
#include "model/batched_matmul.h"
#include "report/latency.h"
#include "util/denormals.h"
#include "util/progress.h"
#include "util/threads.h"

namespace {

struct Shape {
  std::string name;
  int64_t batch, windows, heads, tokens, head_dim;
};

template <typename Matmul>
double attention_step_seconds(Matmul matmul, const at::Tensor& qkv, const Shape& s) {
  vitc::Stopwatch clock;
  const at::Tensor x = qkv.detach().requires_grad_(true);
  const at::Tensor q = x.select(2, 0).transpose(1, 2), k = x.select(2, 1).transpose(1, 2),
                   v = x.select(2, 2).transpose(1, 2);
  const at::Tensor out = matmul(matmul(q, k.transpose(-2, -1)).softmax(-1), v);
  out.sum().backward();
  return clock.seconds();
}

}  // namespace

int main(int argc, char** argv) {
  return vitc::bench::report_errors([&] {
    CLI::App app{"batched_matmul against torch::matmul on attention shapes"};
    int reps = 15;
    vitc::ThreadSettings threads{1, 1};
    bool flush = true;
    app.add_option("--reps", reps, "timed repetitions per shape and kernel")->check(CLI::PositiveNumber);
    app.add_option("--threads", threads.torch_threads, "torch intra-op threads")->capture_default_str();
    app.add_option("--blas-threads", threads.blas_threads, "OpenBLAS threads")->capture_default_str();
    app.add_option("--flush-denormals", flush, "flush subnormals to zero")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    const std::string denormals = vitc::configure_denormals(flush);
    std::printf("%s; %s\n", vitc::configure_threads(threads).c_str(), denormals.c_str());
    // Batch 128 as in training; Swin-T's first stage at 224 px (64 windows of 49 tokens, 3 heads
    // of 32), fm_swin's first stage (4 windows, 2 heads of 16), deit_small (one window of 197
    // tokens, 6 heads of 64) at batch 32.
    const std::vector<Shape> shapes = {{"fm_swin stage 1 (b128)", 128, 4, 2, 49, 16},
                                       {"swin_tiny stage 1 (b8)", 8, 64, 3, 49, 32},
                                       {"deit_small (b32)", 32, 1, 6, 197, 64}};
    std::printf("| attention shape | torch::matmul (ms) | batched_matmul (ms) | ratio |\n|---|---|---|---|\n");
    for (const Shape& s : shapes) {
      const at::Tensor qkv = torch::randn({s.batch * s.windows, s.tokens, 3, s.heads, s.head_dim});
      std::vector<double> reference, ours;
      for (int r = 0; r <= reps; ++r) {  // r = 0 warms both up
        const double t_ref = attention_step_seconds(
            [](const at::Tensor& a, const at::Tensor& b) { return torch::matmul(a, b); }, qkv, s);
        const double t_ours = attention_step_seconds(
            [](const at::Tensor& a, const at::Tensor& b) { return vitc::batched_matmul(a, b); }, qkv, s);
        if (r > 0) {
          reference.push_back(t_ref);
          ours.push_back(t_ours);
        }
      }
      const double m_ref = vitc::median_of(reference), m_ours = vitc::median_of(ours);
      std::printf("| %s | %.2f | %.2f | %.2f |\n", s.name.c_str(), m_ref * 1e3, m_ours * 1e3,
                  m_ours / m_ref);
    }
    return 0;
  });
}
