// Patch merging: 2x2 neighbourhoods concatenated, normalised and reduced.
#include "model/families/swin/patch_merging.h"

#include <torch/torch.h>

#include "model/layer_norm_rows.h"
#include "model/linear.h"

namespace vitc {

PatchMergingImpl::PatchMergingImpl(int dim, double norm_eps) {
  norm = register_module("norm",
                         torch::nn::LayerNorm(torch::nn::LayerNormOptions({4 * dim}).eps(norm_eps)));
  reduction = register_module(
      "reduction", torch::nn::Linear(torch::nn::LinearOptions(4 * dim, 2 * dim).bias(false)));
}

at::Tensor PatchMergingImpl::forward(const at::Tensor& x, int64_t side) {
  const int64_t B = x.size(0), C = x.size(2), half = side / 2;
  // [B, side, side, C] -> [B, half, 2 (row), half, 2 (column), C] -> [B, half, half, column, row, C]
  const at::Tensor groups = x.reshape({B, half, 2, half, 2, C})
                                .permute({0, 1, 3, 4, 2, 5})
                                .reshape({B, half * half, 4 * C});
  return apply_linear(reduction, layer_norm_last_dim(groups, *norm));
}

int64_t patch_merging_macs(const ViTConfig& config) {
  int64_t macs = 0;
  for (int s = 1; s < config.num_stages(); ++s) {
    const int64_t C = config.embed_dim << (s - 1), side = config.stage_side(s);
    macs += side * side * 4 * C * 2 * C;
  }
  return macs;
}

int64_t patch_merging_params(const ViTConfig& config) {
  int64_t params = 0;
  for (int s = 1; s < config.num_stages(); ++s) {
    const int64_t C = config.embed_dim << (s - 1);
    params += 2 * 4 * C + 4 * C * 2 * C;
  }
  return params;
}

}  // namespace vitc
