// Exact, analytic MACs and parameter counts of a ViT config (dense or compressed).
//
// One MAC is one multiply-add. Counted: the stem (patch embedding; T2T-ViT's token attentions and
// projection, t2t_stem.h), q/k/v and proj, both attention
// matmuls (q k^T and attn v, with the real token count including cls/dist tokens, per block: a
// token-pruned block counts the tokens it keeps; a Swin block's queries see their window's
// tokens only), fc1 and fc2, Swin's patch merging reductions,
// and the classifier head(s) (applied to one token each). Not counted: LayerNorm, softmax, GELU,
// bias and residual additions, position embedding and relative position bias, LayerScale,
// pooling (elementwise work, no multiply-adds of a GEMM).
// deit_tiny_patch16_224 = 1.254 GMACs, deit_small = 4.599, deit_base = 17.56 (UVC's figures; timm's
// 4.61 / 17.58 also count LayerNorm and GELU elementwise work).
#pragma once

#include <cstdint>
#include <vector>

#include "model/config.h"

namespace vitc {

struct BlockComplexity {
  int64_t attn_macs = 0;    // qkv + q k^T + attn v + proj
  int64_t attn_executed_macs = 0;  // the same as the compact model computes it: more than
                                   // attn_macs where its heads are padded (head_layout.h)
  int64_t mlp_macs = 0;     // fc1 + fc2
  int64_t attn_params = 0;  // norm1 + qkv + proj (+ Swin's bias table, + ls1)
  int64_t mlp_params = 0;   // norm2 + fc1 + fc2 (+ ls2)
  int64_t macs() const { return attn_macs + mlp_macs; }
  int64_t executed_macs() const { return attn_executed_macs + mlp_macs; }
  int64_t params() const { return attn_params + mlp_params; }
};

struct Complexity {
  int64_t embed_macs = 0;    // the stem: patch embedding, or T2T-ViT's tokens-to-token module
  int64_t embed_params = 0;  // the stem, cls/dist token, pos_embed; fixed tensors included
                             // (T2T-ViT's position table and random features, as its paper)
  int64_t stage_macs = 0;    // transitions between stages (Swin's patch merging), not pruned
  int64_t stage_params = 0;
  int64_t head_macs = 0;     // classifier head(s)
  int64_t head_params = 0;   // final norm + head(s)
  std::vector<BlockComplexity> blocks;
  int64_t macs() const;           // useful MACs: what every budget and report counts
  int64_t executed_macs() const;  // with padded heads' zero dims (head_layout.h)
  int64_t params() const;
};

Complexity compute_complexity(const ViTConfig& config);
// Block i of `config`, with the tokens it processes.
BlockComplexity block_complexity(const ViTConfig& config, int i);

}  // namespace vitc
