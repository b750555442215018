// MACs and parameters from the per-block description alone (no forward pass, no hooks).
#include "model/complexity.h"

#include "model/families/swin/patch_merging.h"
#include "model/families/t2t/t2t_stem.h"
#include "model/head_layout.h"

namespace vitc {

int64_t Complexity::macs() const {
  int64_t total = embed_macs + stage_macs + head_macs;
  for (const auto& b : blocks) total += b.macs();
  return total;
}

int64_t Complexity::executed_macs() const {
  int64_t total = embed_macs + stage_macs + head_macs;
  for (const auto& b : blocks) total += b.executed_macs();
  return total;
}

int64_t Complexity::params() const {
  int64_t total = embed_params + stage_params + head_params;
  for (const auto& b : blocks) total += b.params();
  return total;
}

BlockComplexity block_complexity(const ViTConfig& config, int i) {
  const BlockSpec& block = config.blocks.at(static_cast<size_t>(i));
  BlockComplexity c;
  if (block.skip) return c;
  const int embed_dim = config.block_dim(i), num_tokens = config.block_tokens(i);
  const AttentionWindow window = config.block_window(i);
  const int64_t D = embed_dim, N = num_tokens, K = config.block_keys(i);
  const int64_t layer_scale = config.layer_scale ? D : 0;  // ls1/ls2 gamma
  if (block.has_attention()) {
    const int64_t qk = block.qk_total(), v = block.v_total();
    const int64_t qkv_out = 2 * qk + v;
    c.attn_macs = N * D * qkv_out   // qkv projection
                  + N * K * qk      // q k^T, per head N x K x qk_dim (K keys per query)
                  + N * K * v       // attn v, per head N x K x v_dim
                  + N * v * D;      // output projection
    c.attn_executed_macs =
        executed_attention_macs(block.heads, embed_dim, window.windows(), static_cast<int>(K));
    const int64_t bias_table =  // Swin: relative position bias, one column per kept head
        window.windowed() ? int64_t{2 * window.window - 1} * (2 * window.window - 1) *
                                static_cast<int64_t>(block.heads.size())
                          : 0;
    c.attn_params = 2 * D                                   // norm1
                    + D * qkv_out + (config.qkv_bias ? qkv_out : 0)  // qkv
                    + v * D + D                             // proj
                    + bias_table + layer_scale;
  }
  if (block.has_mlp()) {
    const int64_t H = block.mlp_hidden;
    c.mlp_macs = 2 * N * D * H;
    c.mlp_params = 2 * D + (D * H + H) + (H * D + D) + layer_scale;
  }
  return c;
}

Complexity compute_complexity(const ViTConfig& config) {
  Complexity c;
  const int64_t D = config.embed_dim, F = config.final_dim();
  const int64_t patch_in = static_cast<int64_t>(config.in_chans) * config.patch_size * config.patch_size;
  const int64_t heads = config.distilled ? 2 : 1;
  if (config.is_t2t()) {  // T2T-ViT: its fixed tensors count, as its paper's 21.5M does
    c.embed_macs = t2t_stem_macs(config);
    c.embed_params = t2t_stem_params(config) + t2t_stem_fixed(config);
  } else {
    c.embed_macs = config.num_patches() * patch_in * D;
    c.embed_params = patch_in * D + D             // patch_embed.proj
                     + (config.is_swin() ? 2 * D : 0);  // patch_embed.norm (Swin)
  }
  c.embed_params += config.num_prefix_tokens() * D  // cls (+ dist) token
                    + (config.has_pos_embed() ? config.pos_embed_rows() * D : 0);
  c.stage_macs = patch_merging_macs(config);
  c.stage_params = patch_merging_params(config);
  c.head_macs = heads * F * config.num_classes;
  c.head_params = 2 * F + heads * (F * config.num_classes + config.num_classes);
  for (int i = 0; i < config.depth(); ++i) c.blocks.push_back(block_complexity(config, i));
  return c;
}

}  // namespace vitc
