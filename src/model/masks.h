// Multiplicative masks and gates a method can pass through a ViT's forward pass (the "masked
// view"). Soft values during a search, 0/1 at the end; undefined tensors mean "no mask".
#pragma once

#include <vector>

#include <ATen/Tensor.h>

namespace vitc {

// Masks of one block; every field is optional (an undefined tensor is not applied).
//   heads:     [num_heads]   multiplies each head's output (attn @ v) before proj.
//   qk:        [qk_total]    multiplies q and k features (per head dim; q.k then sees qk^2).
//   v:         [v_total]     multiplies v features.
//   mlp:       [mlp_hidden]  multiplies the MLP hidden activations after GELU, before fc2.
//   attn_gate: scalar        multiplies the attention branch: x + attn_gate * attn(norm1(x)).
//   mlp_gate:  scalar        multiplies the MLP branch: y + mlp_gate * mlp(norm2(y)). Unlike an
//                            all-zero `mlp` mask it also removes fc2's bias, as a compact model
//                            without an MLP does.
//   gate:      scalar or [B,1,1]  the block gate: out = x + gate * (block(x) - x); 0 = skipped.
//   tokens:    [N] or [B,N]  multiplies the norm1 and norm2 outputs per token (ViT-Slim's search;
//                            a zeroed token still acts as a key and value equal to the qkv bias
//                            and stays in the residual stream, so this is not dropping it).
//   keys:      [N] or [B,N]  weights each token as an attention key: softmax weights become
//                            keys_j exp(s_ij) / sum_j keys_j exp(s_ij). 0 removes token j as a key
//                            and value, which is what dropping it does to every other token
//                            (structure_masks of a token-pruned Structure). Values must be >= 0.
// N is the number of tokens the block processes.
struct BlockMasks {
  at::Tensor heads;
  at::Tensor qk;
  at::Tensor v;
  at::Tensor mlp;
  at::Tensor attn_gate;
  at::Tensor mlp_gate;
  at::Tensor gate;
  at::Tensor tokens;
  at::Tensor keys;
};

// One BlockMasks per block of the model (indexed like config.blocks).
struct ModelMasks {
  std::vector<BlockMasks> blocks;
};

}  // namespace vitc
