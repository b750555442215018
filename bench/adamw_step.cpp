// One optimizer step on a model's parameters (deit_small by default: 22 M): vitc's AdamW in its
// fused float32 pass, the same AdamW as tensor operations (the path before the fused pass, as
// PyTorch eager's single-tensor AdamW on the CPU), and LibTorch's torch::optim::AdamW,
// interleaved step by step in one process; medians and ratios as a Markdown table.
//   bench_adamw_step [--model deit_small_patch16_224] [--steps 15] [--threads 1] [--blas-threads 1]
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include "bench_main.h"
#include "model/vit.h"
#include "report/latency.h"
#include "train/adamw.h"
#include "util/progress.h"
#include "util/threads.h"

int main(int argc, char** argv) {
  CLI::App app{"one AdamW step: vitc fused, vitc tensor operations, torch::optim::AdamW"};
  std::string model_name = "deit_small_patch16_224";
  int steps = 15;
  vitc::ThreadSettings threads{1, 1};
  app.add_option("--model", model_name, "config name (random weights)")->capture_default_str();
  app.add_option("--steps", steps, "timed steps per optimizer")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--threads", threads.torch_threads, "torch intra-op threads")->capture_default_str();
  app.add_option("--blas-threads", threads.blas_threads, "OpenBLAS threads")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return vitc::bench::report_errors([&] {
    using namespace vitc;
    const std::string thread_text = configure_threads(threads);
    const ViTConfig config = named_config(model_name);
    // Three copies of the parameters with the same gradients, one per optimizer.
    std::vector<AdamW::NamedParams> copies(3);
    int64_t count = 0;
    {
      VisionTransformer model = make_model(config, 0);
      for (const auto& [name, p] : trainable_parameters(*model)) {
        const at::Tensor grad = torch::randn_like(p);
        for (auto& copy : copies) {
          at::Tensor q = p.detach().clone().requires_grad_(true);
          q.mutable_grad() = grad.clone();
          copy.emplace_back(name, q);
        }
        count += p.numel();
      }
    }
    AdamW fused(copies[0], AdamWOptions{}), tensor_ops(copies[1], AdamWOptions{});
    tensor_ops.set_fused(false);
    std::vector<at::Tensor> plain;
    for (const auto& [name, p] : copies[2]) plain.push_back(p);
    torch::optim::AdamW libtorch(plain, torch::optim::AdamWOptions(1e-4).weight_decay(0.05));
    std::vector<double> t_fused, t_ops, t_libtorch;
    for (int s = -1; s < steps; ++s) {  // s = -1 warms all three up
      Stopwatch a;
      fused.step(1e-4);
      const double fa = a.seconds();
      Stopwatch b;
      tensor_ops.step(1e-4);
      const double fb = b.seconds();
      Stopwatch c;
      libtorch.step();
      const double fc = c.seconds();
      if (s >= 0) {
        t_fused.push_back(fa);
        t_ops.push_back(fb);
        t_libtorch.push_back(fc);
      }
    }
    const double mf = median_of(t_fused), mo = median_of(t_ops), ml = median_of(t_libtorch);
    std::printf("%s: %.2f M parameters, %d steps each, interleaved; %s\n", config.name.c_str(),
                count / 1e6, steps, thread_text.c_str());
    std::printf("| optimizer step | median (ms) | vs fused |\n|---|---|---|\n");
    std::printf("| vitc AdamW, fused float32 pass | %.1f | 1.00 |\n", mf * 1e3);
    std::printf("| vitc AdamW, tensor operations | %.1f | %.2f |\n", mo * 1e3, mo / mf);
    std::printf("| torch::optim::AdamW (LibTorch) | %.1f | %.2f |\n", ml * 1e3, ml / mf);
    return 0;
  });
}
