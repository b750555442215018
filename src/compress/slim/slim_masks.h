// ViT-Slim's learnable soft masks (Chavan et al., "Vision Transformer Slimming", CVPR 2022) and
// the masked view of a dense ViT they define.
#pragma once

#include <string>
#include <vector>

#include <ATen/Tensor.h>
#include <nlohmann/json_fwd.hpp>

#include "io/safetensors.h"
#include "model/config.h"
#include "model/masks.h"

namespace vitc {

// The raw token-mask value the reference initialises every token mask with; the mask applied is
// tanh(z) / tanh(kTokenMaskInit), exactly 1 at initialisation (the reference applies tanh(z),
// 0.995 at initialisation: a fresh model would not reproduce its teacher).
inline constexpr double kTokenMaskInit = 3.0;

// Masks of a dense source model with L blocks of (at most) H heads of width (at most) d and MLP
// width (at most) M:
//   attn   [L, H, d]  init 1; multiplies q, k and v of (block, head, dim): one mask shared by
//                     the three, so q.k sees z^2 (paper Eq. 2, reference SparseAttention).
//   mlp    [L, M]     init 1; multiplies the hidden activations after GELU, before fc2.
// Where blocks differ in size (Swin's stages), H, d and M are the largest; the entries a block
// does not have are 0, never applied, never ranked (SlimGeometry::attn_valid/mlp_valid).
//   tokens [L, P]     optional (undefined = no token search); raw values z, init 3.0, one per
//                     (block, patch token). The cls/dist tokens are never masked, and P comes from
//                     the config (the reference hard-codes 197 tokens, cls included).
// Usage:
//   SlimMasks masks = make_slim_masks(model->config(), /*with_tokens=*/false);
//   ModelMasks view = slim_model_masks(masks, model->config());
//   at::Tensor logits = model->forward(images, &view);  // == model->forward(images) while fresh
struct SlimMasks {
  at::Tensor attn;
  at::Tensor mlp;
  at::Tensor tokens;
  bool has_tokens() const { return tokens.defined(); }
};

// The λ of the search objective: loss += attn * Σ|z_attn| + mlp * Σ|z_mlp| + tokens * Σ|m_tok|
// (unnormalised sums over all blocks). Defaults are the paper's values, used as written: vitc's
// search is one process, so these are the effective coefficients (see docs/vit_slim.md).
struct SparsityWeights {
  double attn = 2e-4;
  double mlp = 5e-5;
  double tokens = 1e-4;
};

// Geometry of a dense source model; throws vitc::Error naming the block if `config` is not dense
// (a skipped part, heads of unequal widths within a block, q/k width != v width): ViT-Slim
// searches a full model. Blocks may differ from each other (Swin's stages).
struct SlimGeometry {
  int blocks = 0, patches = 0, prefix_tokens = 0;
  std::vector<int> heads, head_dim, mlp_hidden;  // per block
  int max_heads = 0, max_head_dim = 0, max_mlp_hidden = 0;
  // Where block l has the entry: [L, max_heads, max_head_dim] and [L, max_mlp_hidden] (bool).
  at::Tensor attn_valid() const;
  at::Tensor mlp_valid() const;
};
SlimGeometry slim_geometry(const ViTConfig& config);

// Fresh masks (float32, CPU, no autograd): attn and mlp 1 where the block has the entry (else 0),
// tokens all kTokenMaskInit. Token masks need a ViT: a Swin's windows need every token.
SlimMasks make_slim_masks(const ViTConfig& config, bool with_tokens);

// The applied token mask of raw values z: tanh(z) / tanh(kTokenMaskInit).
at::Tensor token_mask_values(const at::Tensor& z);

// The masked view: per block qk = v = the block's part of attn[l] flattened (head-major, as the
// qkv rows), mlp = the block's part of mlp[l], tokens = [1 for cls/dist tokens, token_mask_values(tokens[l])]. Views and new tensors
// only: nothing is written into the masks or the model, so gradients reach the mask tensors.
ModelMasks slim_model_masks(const SlimMasks& masks, const ViTConfig& config);

// The L1 term of the search objective (a scalar on the masks' device).
at::Tensor slim_sparsity_loss(const SlimMasks& masks, const SparsityWeights& weights);

// Mean |z| per type and the fraction of entries with |z| < 0.05 (over the entries the blocks
// of `config` have), for progress lines and logs.
nlohmann::json slim_mask_stats(const SlimMasks& masks, const ViTConfig& config);

// As safetensors tensors "attn", "mlp" and (if searched) "tokens".
TensorMap slim_masks_to_tensors(const SlimMasks& masks);
// Checks names, dtypes and shapes against `config`; errors name `where` (a file path).
SlimMasks slim_masks_from_tensors(const TensorMap& tensors, const ViTConfig& config,
                                  const std::string& where);

}  // namespace vitc
