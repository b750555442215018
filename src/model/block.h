// Transformer block (pre-norm): x + attn(norm1(x)), then + mlp(norm2(x)); sizes from a BlockSpec.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include "model/attention.h"
#include "model/config.h"
#include "model/masks.h"

namespace vitc {

// fc1 -> GELU (exact, erf) -> fc2, as in timm's Mlp.
class MlpImpl : public torch::nn::Module {
 public:
  MlpImpl(int embed_dim, int hidden);
  // `hidden_mask` (optional, [hidden]) multiplies the activations after GELU.
  at::Tensor forward(const at::Tensor& x, const at::Tensor& hidden_mask = {});

  torch::nn::Linear fc1{nullptr};
  torch::nn::Linear fc2{nullptr};
};
TORCH_MODULE(Mlp);

// A skipped block owns no parameters; a block without attention has no norm1/attn; a block
// without MLP has no norm2/mlp. Parameter names follow timm (norm1, attn.qkv, attn.proj, norm2,
// mlp.fc1, mlp.fc2).
class BlockImpl : public torch::nn::Module {
 public:
  BlockImpl(int embed_dim, BlockSpec spec, double norm_eps, bool qkv_bias);
  at::Tensor forward(const at::Tensor& x, const BlockMasks* masks = nullptr);

  const BlockSpec& spec() const { return spec_; }

  torch::nn::LayerNorm norm1{nullptr};
  Attention attn{nullptr};
  torch::nn::LayerNorm norm2{nullptr};
  Mlp mlp{nullptr};

 private:
  BlockSpec spec_;
};
TORCH_MODULE(Block);

}  // namespace vitc
