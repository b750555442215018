// Patches as rows (see patch_rows.h).
#include "model/patch_rows.h"

#include <algorithm>
#include <cstring>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "util/error.h"

namespace vitc {

at::Tensor patch_rows(const at::Tensor& images, int64_t p) {
  check(images.dim() == 4 && p > 0, "patch_rows: expected images [B, C, H, W] and a positive patch "
        "size, got ", images.sizes(), " and ", p);
  const int64_t B = images.size(0), C = images.size(1), H = images.size(2), W = images.size(3);
  const int64_t rows = H / p, cols = W / p;
  const bool graph = at::GradMode::is_enabled() && images.requires_grad();
  if (graph || !images.device().is_cpu() || images.scalar_type() != at::kFloat) {
    return images.narrow(2, 0, rows * p)
        .narrow(3, 0, cols * p)
        .reshape({B, C, rows, p, cols, p})
        .permute({0, 2, 4, 1, 3, 5})
        .reshape({B, rows * cols, C * p * p});
  }
  const at::Tensor x = images.contiguous();
  at::Tensor out = at::empty({B, rows * cols, C * p * p}, x.options());
  const float* src = x.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  const int64_t patch = C * p * p;
  at::parallel_for(0, B * rows, 1, [&](int64_t begin, int64_t end) {
    for (int64_t bi = begin; bi < end; ++bi) {
      const int64_t b = bi / rows, i = bi % rows;
      for (int64_t j = 0; j < cols; ++j) {
        float* row = dst + ((b * rows + i) * cols + j) * patch;
        for (int64_t c = 0; c < C; ++c)
          for (int64_t dy = 0; dy < p; ++dy) {
            const float* pixels = src + ((b * C + c) * H + i * p + dy) * W + j * p;
            std::memcpy(row + (c * p + dy) * p, pixels, static_cast<size_t>(p) * sizeof(float));
          }
      }
    }
  });
  return out;
}

}  // namespace vitc
