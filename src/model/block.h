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
  // residual + forward(x, hidden_mask), fc2's bias and the addition in one pass in inference
  // (linear_added_to, model/linear.h).
  at::Tensor forward_added_to(const at::Tensor& residual, const at::Tensor& x,
                              const at::Tensor& hidden_mask = {});

  torch::nn::Linear fc1{nullptr};
  torch::nn::Linear fc2{nullptr};
};
TORCH_MODULE(Mlp);

// LayerScale (DeiT III): x * gamma, gamma per channel ([embed_dim], timm's ls1/ls2.gamma).
class LayerScaleImpl : public torch::nn::Module {
 public:
  explicit LayerScaleImpl(int embed_dim);
  at::Tensor forward(const at::Tensor& x) { return x * gamma; }

  at::Tensor gamma;
};
TORCH_MODULE(LayerScale);

// A skipped block owns no parameters; a block without attention has no norm1/attn; a block
// without MLP has no norm2/mlp (nor ls1/ls2 with LayerScale). Parameter names follow timm (norm1,
// attn.qkv, attn.proj, attn.relative_position_bias_table, ls1.gamma, norm2, mlp.fc1, mlp.fc2,
// ls2.gamma). With a windowed AttentionWindow (Swin) the attention runs within (shifted) windows.
class BlockImpl : public torch::nn::Module {
 public:
  BlockImpl(int embed_dim, BlockSpec spec, double norm_eps, bool qkv_bias, bool layer_scale,
            AttentionWindow window = {});
  at::Tensor forward(const at::Tensor& x, const BlockMasks* masks = nullptr);
  // The attention of already normalised tokens [B, N, D], windowed where the block is; no
  // LayerScale, no residual. For code that runs a block's parts itself (PRACTISE's adaptors).
  at::Tensor attend(const at::Tensor& normed, const BlockMasks* masks = nullptr);
  // A branch's output as the residual receives it: LayerScale applied where the block has it.
  // For code that runs a block's parts itself (PRACTISE's adaptors).
  at::Tensor scaled_attention(const at::Tensor& a) { return ls1 ? ls1->forward(a) : a; }
  at::Tensor scaled_mlp(const at::Tensor& m) { return ls2 ? ls2->forward(m) : m; }

  const BlockSpec& spec() const { return spec_; }
  const AttentionWindow& window() const { return window_; }

  torch::nn::LayerNorm norm1{nullptr};
  Attention attn{nullptr};
  LayerScale ls1{nullptr};
  torch::nn::LayerNorm norm2{nullptr};
  Mlp mlp{nullptr};
  LayerScale ls2{nullptr};

 private:
  BlockSpec spec_;
  AttentionWindow window_;
  at::Tensor window_mask_;  // shifted windows: shifted_window_mask(window_), moved on first use
};
TORCH_MODULE(Block);

}  // namespace vitc
