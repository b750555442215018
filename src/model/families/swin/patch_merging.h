// Swin's patch merging between stages (timm's PatchMerging): each 2x2 group of tokens is
// concatenated (rows 0/1 of column 0, then of column 1: timm's and the paper's x0, x1, x2, x3
// order), normalised over the 4C features and reduced to 2C by a Linear without bias. It belongs
// to the family and is never pruned.
#pragma once

#include <cstdint>

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include "model/config.h"

namespace vitc {

class PatchMergingImpl : public torch::nn::Module {
 public:
  PatchMergingImpl(int dim, double norm_eps);
  // [B, side^2, C] -> [B, (side/2)^2, 2C]
  at::Tensor forward(const at::Tensor& x, int64_t side);

  torch::nn::LayerNorm norm{nullptr};
  torch::nn::Linear reduction{nullptr};
};
TORCH_MODULE(PatchMerging);

// MACs and parameters of every patch merging of a Swin config (0 for other configs).
int64_t patch_merging_macs(const ViTConfig& config);
int64_t patch_merging_params(const ViTConfig& config);

}  // namespace vitc
