// The Vision Transformer: a stem (patch embedding, or T2T-ViT's tokens-to-token module), cls (and
// DeiT dist) token, blocks sized by their BlockSpecs, final norm and head(s). timm's parameter names, so timm weights load as they are.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include "model/block.h"
#include "model/config.h"
#include "model/families/t2t/t2t_stem.h"
#include "model/masks.h"

namespace vitc {

// Conv2d with kernel = stride = patch size, flattened to tokens: [B,C,H,W] -> [B,P,D].
class PatchEmbedImpl : public torch::nn::Module {
 public:
  PatchEmbedImpl(int in_chans, int embed_dim, int patch_size);
  at::Tensor forward(const at::Tensor& x);
  torch::nn::Conv2d proj{nullptr};
};
TORCH_MODULE(PatchEmbed);

// Logits of the class head and, for distilled models, of the distillation head.
struct HeadOutputs {
  at::Tensor cls;
  at::Tensor dist;  // undefined unless config.distilled
  // Inference logits: cls, or the mean of both heads for distilled models (as timm/DeiT).
  at::Tensor combined() const;
};

// LayerScale gammas start at DeiT III's init_values (timm's deit3_* configs).
inline constexpr double kLayerScaleInit = 1e-6;

// Usage:
//   VisionTransformer model(named_config("fm_small"));
//   at::Tensor logits = model->forward(images);          // [B, num_classes]
//   HeadOutputs both = model->forward_heads(images);      // training a distilled model
//   at::Tensor tokens = model->forward_features(images);  // [B, N, D] after the final norm
class VisionTransformerImpl : public torch::nn::Module {
 public:
  explicit VisionTransformerImpl(ViTConfig config);

  at::Tensor forward(const at::Tensor& images, const ModelMasks* masks = nullptr);
  HeadOutputs forward_heads(const at::Tensor& images, const ModelMasks* masks = nullptr);
  at::Tensor forward_features(const at::Tensor& images, const ModelMasks* masks = nullptr);
  // Tokens after patch embedding, prefix tokens and position embedding: [B, N, D].
  at::Tensor embed(const at::Tensor& images);
  // Final norm + head(s) applied to block outputs.
  HeadOutputs head_outputs(const at::Tensor& tokens);
  // Token pruning: `x` (the tokens reaching block i) without the tokens block i drops, or `x`
  // itself. Code that runs the blocks one by one calls it before each block, as forward does.
  at::Tensor drop_tokens(int i, const at::Tensor& x);

  // timm-style initialisation (truncated normal std 0.02 for Linear weights and embeddings).
  void init_weights(uint64_t seed);

  const ViTConfig& config() const { return config_; }
  // Where the parameters are (every parameter is on one device).
  c10::Device device() const { return pos_embed.device(); }
  Block block(int i) const { return blocks->ptr<BlockImpl>(i); }

  // The stem: patch_embed (stem "patch") or tokens_to_token (stem "t2t"); the other is null.
  PatchEmbed patch_embed{nullptr};
  T2TStem tokens_to_token{nullptr};
  at::Tensor cls_token;
  at::Tensor dist_token;
  at::Tensor pos_embed;  // a parameter, or a buffer where it is fixed (T2T-ViT's sinusoid table)
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::LayerNorm norm{nullptr};
  torch::nn::Linear head{nullptr};
  torch::nn::Linear head_dist{nullptr};

 private:
  ViTConfig config_;
  // Per block: indices into the tokens reaching it of those it keeps (cls/dist first), or
  // undefined where it drops none. Moved to the activations' device on first use.
  std::vector<at::Tensor> token_gather_;
};
TORCH_MODULE(VisionTransformer);

// A model of `config`, validated and initialised with `seed`.
VisionTransformer make_model(const ViTConfig& config, uint64_t seed);

}  // namespace vitc
