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
#include "model/families/swin/patch_merging.h"
#include "model/families/t2t/t2t_stem.h"
#include "model/masks.h"

namespace vitc {

// Conv2d with kernel = stride = patch size, flattened to tokens: [B,C,H,W] -> [B,P,D], then a
// LayerNorm where the family has one (Swin's patch_embed.norm).
class PatchEmbedImpl : public torch::nn::Module {
 public:
  PatchEmbedImpl(int in_chans, int embed_dim, int patch_size, bool with_norm = false,
                 double norm_eps = 1e-5);
  at::Tensor forward(const at::Tensor& x);
  torch::nn::Conv2d proj{nullptr};
  torch::nn::LayerNorm norm{nullptr};
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
// A Swin (config.is_swin()) has no cls token and no pos_embed; patch merging (`merges`) opens
// each stage after the first, and its head averages the final tokens.
class VisionTransformerImpl : public torch::nn::Module {
 public:
  explicit VisionTransformerImpl(ViTConfig config);

  at::Tensor forward(const at::Tensor& images, const ModelMasks* masks = nullptr);
  HeadOutputs forward_heads(const at::Tensor& images, const ModelMasks* masks = nullptr);
  at::Tensor forward_features(const at::Tensor& images, const ModelMasks* masks = nullptr);
  // Tokens after patch embedding, prefix tokens and position embedding: [B, N, D].
  at::Tensor embed(const at::Tensor& images);
  // Head(s) applied to final-norm tokens (forward_features' output).
  HeadOutputs head_outputs(const at::Tensor& tokens);
  // What block i processes, from the output of the block before it (or of embed for block 0):
  // Swin's patch merging where block i opens a stage, the token gathering of token pruning where
  // block i drops tokens, or `x` itself. Code that runs the blocks one by one calls it before each
  // block, as forward_features does.
  at::Tensor block_input(int i, const at::Tensor& x);

  // timm-style initialisation (truncated normal std 0.02 for Linear weights and embeddings).
  void init_weights(uint64_t seed);

  const ViTConfig& config() const { return config_; }
  // Where the parameters are and their dtype (every parameter is on one device).
  c10::Device device() const { return norm->weight.device(); }
  at::TensorOptions options() const { return norm->weight.options(); }
  Block block(int i) const { return blocks->ptr<BlockImpl>(i); }

  // The stem: patch_embed (stem "patch") or tokens_to_token (stem "t2t"); the other is null.
  PatchEmbed patch_embed{nullptr};
  T2TStem tokens_to_token{nullptr};
  at::Tensor cls_token;   // undefined for Swin
  at::Tensor dist_token;
  at::Tensor pos_embed;   // a parameter, or a buffer where it is fixed (T2T-ViT's sinusoid table);
                          // undefined for Swin
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::ModuleList merges{nullptr};  // Swin: merges[s - 1] opens stage s; null otherwise
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
