// T2T-ViT's tokens-to-token stem (Yuan et al. 2021; yitu-opensource/T2T-ViT's T2T_module): soft
// splits (unfold) of the image, a one-head token attention between consecutive splits that
// re-structures the tokens into a map again, and a linear projection to the ViT width. It is the
// family's front: never pruned. Parameter names follow the repository (tokens_to_token.
// attention1.kqv, ...), so its checkpoints load as they are.
#pragma once

#include <cstdint>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include "model/config.h"

namespace vitc {

// Token_performer: the attention of one head approximated with m = token_dim / 2 positive
// random features (w, fixed, a buffer), then a v skip connection (the width changes) and an MLP
// (mlp.0, mlp.2) of the same width.
class TokenPerformerImpl : public torch::nn::Module {
 public:
  TokenPerformerImpl(int in_dim, int token_dim, double norm_eps);
  at::Tensor forward(const at::Tensor& x);

  at::Tensor w;  // [m, token_dim] random features (orthogonal rows times sqrt(m))
  torch::nn::Linear kqv{nullptr};
  torch::nn::Linear proj{nullptr};
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  torch::nn::Sequential mlp{nullptr};
};
TORCH_MODULE(TokenPerformer);

// Token_transformer: one softmax attention head over the split's width (scale in_dim^-0.5, qkv
// without bias), a v skip connection and an MLP (mlp.fc1, mlp.fc2) of the same width.
class TokenTransformerImpl : public torch::nn::Module {
 public:
  TokenTransformerImpl(int in_dim, int token_dim, double norm_eps);
  at::Tensor forward(const at::Tensor& x);

  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  torch::nn::Linear qkv{nullptr}, proj{nullptr};  // registered as attn.qkv, attn.proj
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};   // registered as mlp.fc1, mlp.fc2
  double scale = 0;
};
TORCH_MODULE(TokenTransformer);

// images [B, C, H, W] -> tokens [B, P, embed_dim], P = config.num_patches().
class T2TStemImpl : public torch::nn::Module {
 public:
  explicit T2TStemImpl(const ViTConfig& config);
  at::Tensor forward(const at::Tensor& images);
  // Initialisation: the random features drawn from `gen` (orthogonal rows times sqrt(m), as the
  // repository); Linear and LayerNorm weights are left to the model's init.
  void init_random_features(at::Generator& gen);

  // attention1, attention2, ... (one between consecutive soft splits); each holds a
  // TokenPerformer or a TokenTransformer.
  std::vector<std::shared_ptr<torch::nn::Module>> attentions;
  torch::nn::Linear project{nullptr};

 private:
  T2TStemSpec spec_;
};
TORCH_MODULE(T2TStem);

// Multiply-adds of the stem at batch 1 (matmuls only, as complexity.h counts): per token
// attention at T tokens of input width C, width e and m = e/2 features,
//   Performer:   T (3Ce + 4em + m + 3e^2)   (kqv, q/k features, normaliser, k^T v, q (k^T v),
//                                            proj, mlp);
//   Transformer: T (3Ce + 2Te + 3e^2)       (qkv, q k^T, attn v, proj, mlp);
// and the projection P * (e k^2) * embed_dim. Unfold, the feature exponentials and |x|^2 are
// elementwise work, not counted.
int64_t t2t_stem_macs(const ViTConfig& config);
// Its parameters, and its fixed tensors (the Performers' random features, buffers).
int64_t t2t_stem_params(const ViTConfig& config);
int64_t t2t_stem_fixed(const ViTConfig& config);

}  // namespace vitc
