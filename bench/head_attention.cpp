// One-head attention kernels (model/head_attention.h): the fused AVX-512 kernel against the sgemm
// kernel (two cblas_sgemm calls and the row softmax), interleaved repetition by repetition in one
// process, every (image, head) of a batch on one thread, on the head widths of fm_small's teacher
// and of its pruned heads (ViT-Slim keeps 1-16 of 16 dims, UVC narrows v) and of deit_small.
//   bench_head_attention [--reps 30] [--threads 1]
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include "bench_main.h"
#include "kernel_bench.h"
#include "model/attention_by_heads.h"
#include "util/threads.h"

namespace {

struct Shape {
  std::string name;
  int64_t images, heads, tokens;
  int qk_dim, v_dim;
};

// Every (image, head) of one batch through `kernel`, heads side by side in the qkv rows.
template <class Kernel>
void run_batch(const Shape& s, const float* qkv, float* out, float* scratch, Kernel&& kernel) {
  const int qk_total = static_cast<int>(s.heads) * s.qk_dim;
  const int v_total = static_cast<int>(s.heads) * s.v_dim;
  const int64_t width = 2 * qk_total + v_total;
  for (int64_t b = 0; b < s.images; ++b) {
    for (int h = 0; h < s.heads; ++h) {
      const vitc::HeadColumns head{h * s.qk_dim, s.qk_dim, h * s.v_dim, s.v_dim};
      kernel(vitc::head_attention_task(qkv + b * s.tokens * width, s.tokens, head, qk_total,
                                       v_total, 0.25f, out + b * s.tokens * v_total),
             scratch);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  return vitc::bench::kernel_bench_main(
      argc, argv,
      "one-head attention: vitc's fused AVX-512 kernel vs its sgemm kernel",
      30, [&](int reps) {
    if (!vitc::head_attention_fused_available()) {
      std::printf("this CPU has no AVX-512F: the fused kernel does not run here\n");
      return 0;
    }
    const std::vector<Shape> shapes = {
        {"fm_small teacher, b64 (4 heads, 50 tokens)", 64, 4, 50, 16, 16},
        {"fm_small, q/k 8, v 8", 64, 4, 50, 8, 8},
        {"fm_small, q/k 4, v 4", 64, 4, 50, 4, 4},
        {"fm_small, q/k 2, v 2", 64, 4, 50, 2, 2},
        {"fm_small, q/k 16, v 5 (UVC-like)", 64, 4, 50, 16, 5},
        {"deit_small, b8 (6 heads, 197 tokens)", 8, 6, 197, 64, 64},
        {"deit_small, q/k 48, v 48", 8, 6, 197, 48, 48},
        {"deit_small, q/k 32, v 32", 8, 6, 197, 32, 32},
        {"deit_small, q/k 64, v 16", 8, 6, 197, 64, 16},
        {"deit_small, q/k 16, v 64", 8, 6, 197, 16, 64},
        {"deit_small, q/k 24, v 24", 8, 6, 197, 24, 24},
        {"deit_small, q/k 8, v 8", 8, 6, 197, 8, 8}};
    std::printf("| heads | sgemm kernel (ms) | fused kernel (ms) | ratio | max difference |\n"
                "|---|---|---|---|---|\n");
    for (const Shape& s : shapes) {
      const int64_t width = s.heads * (2 * s.qk_dim + s.v_dim);
      const at::Tensor qkv = torch::randn({s.images, s.tokens, width});
      at::Tensor by_sgemm = torch::zeros({s.images, s.tokens, s.heads * s.v_dim});
      at::Tensor fused = torch::zeros_like(by_sgemm);
      vitc::HeadAttentionScratch scratch(s.tokens, s.qk_dim);
      const auto [sgemm_s, fused_s] = vitc::bench::interleaved_medians(
          reps,
          [&] {
            run_batch(s, qkv.data_ptr<float>(), by_sgemm.data_ptr<float>(), scratch.data(),
                      vitc::head_attention_by_sgemm);
          },
          [&] {
            run_batch(s, qkv.data_ptr<float>(), fused.data_ptr<float>(), scratch.data(),
                      vitc::head_attention_fused);
          });
      std::printf("| %s | %.3f | %.3f | %.2f | %.1e |\n", s.name.c_str(), sgemm_s * 1e3,
                  fused_s * 1e3, fused_s / sgemm_s,
                  (fused - by_sgemm).abs().max().item<double>());
    }
    return 0;
  });
}
