// ViT configuration: global sizes plus one BlockSpec per block, so a compressed model is the same
// class as a dense one with other sizes. Named configs use timm's names.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "model/config_limits.h"
#include "util/input_stats.h"

namespace vitc {

// One attention head of a block: its q/k width and its v width (they may differ).
struct HeadSpec {
  int qk_dim = 0;
  int v_dim = 0;
  bool operator==(const HeadSpec& o) const { return qk_dim == o.qk_dim && v_dim == o.v_dim; }
};

// The sizes of one transformer block.
//   skip:      the whole block is removed (x passes through); it then has no parameters.
//   attn_skip: the attention branch (norm1, qkv, proj) is removed, the residual kept.
//   heads:     kept heads in the order the compact model computes them; empty iff attention is
//              skipped.
//   mlp_hidden: width of fc1/fc2; 0 removes the MLP branch (norm2, fc1, fc2).
//   attn_scale: softmax scale, kept from the source model (1/sqrt(source head dim)), so slicing
//               a head's q/k dims does not change what it computes.
//   tokens:    token pruning (ViT-Slim): the patch positions (0-based, row-major in the patch
//              grid) this block and the blocks after it process, strictly increasing and a subset
//              of the positions the block before processes. The cls/dist tokens are always kept
//              and never listed. Empty: no tokens dropped here (the previous block's positions,
//              every patch for block 0). The model gathers the kept tokens before the block.
struct BlockSpec {
  bool skip = false;
  bool attn_skip = false;
  std::vector<HeadSpec> heads;
  int mlp_hidden = 0;
  double attn_scale = 0.0;
  std::vector<int> tokens;

  bool has_attention() const { return !skip && !attn_skip; }
  bool has_mlp() const { return !skip && mlp_hidden > 0; }
  int qk_total() const;  // sum of heads' qk_dim
  int v_total() const;   // sum of heads' v_dim
  bool operator==(const BlockSpec& o) const;
};

// T2T-ViT (stem "t2t"): one soft split, an unfold with this kernel, stride and padding.
struct SoftSplit {
  int kernel = 0;
  int stride = 0;
  int padding = 0;
  bool operator==(const SoftSplit& o) const {
    return kernel == o.kernel && stride == o.stride && padding == o.padding;
  }
};

// T2T-ViT's tokens-to-token stem (model/families/t2t/t2t_stem.h): soft splits with a one-head
// token attention of width token_dim between consecutive ones, "performer" (T2T-ViT-N) or
// "transformer" (T2T-ViT_t-N). The repository's are 7/4/2, 3/2/1, 3/2/1 and width 64.
struct T2TStemSpec {
  std::string attention = "performer";
  int token_dim = 64;
  std::vector<SoftSplit> splits = {{7, 4, 2}, {3, 2, 1}, {3, 2, 1}};
  // The side of the token map after each split of an img_size input:
  // side' = (side + 2 padding - kernel) / stride + 1.
  std::vector<int> map_sides(int img_size) const;
  bool operator==(const T2TStemSpec& o) const {
    return attention == o.attention && token_dim == o.token_dim && splits == o.splits;
  }
};

// Swin Transformer (a config with a `swin` section): the blocks form stages of `depths` blocks;
// stage s runs on a (side / 2^s)^2 token grid at width embed_dim * 2^s with window attention, and
// patch merging (family-owned, not pruned) halves the grid and doubles the width between stages.
// Block j of a stage attends within window_size^2 windows, shifted by window_size / 2 for odd j;
// a stage whose grid is not larger than the window uses one window of the whole grid, unshifted
// (timm's rule). There are no cls token and no position embedding; the head averages the tokens.
struct SwinSpec {
  int window_size = 7;
  std::vector<int> depths;  // blocks per stage, adding up to the number of blocks; empty: not Swin
  bool operator==(const SwinSpec& o) const {
    return window_size == o.window_size && depths == o.depths;
  }
};

// What one block's attention sees (ViTConfig::block_window): the whole sequence (window 0), or
// windows of window x window tokens of a side x side grid, cyclically shifted by `shift`.
struct AttentionWindow {
  int side = 0;    // token grid side (Swin); 0 for global attention
  int window = 0;  // window side; 0: global attention
  int shift = 0;
  bool windowed() const { return window > 0; }
  int windows() const { return windowed() ? (side / window) * (side / window) : 1; }
  bool operator==(const AttentionWindow& o) const {
    return side == o.side && window == o.window && shift == o.shift;
  }
};

struct ViTConfig {
  std::string name;
  int img_size = 224;
  int patch_size = 16;
  int in_chans = 3;
  int num_classes = 1000;
  int embed_dim = 768;
  // The stem turning images into patch tokens, the family's unpruned front: "patch" (ViT, DeiT:
  // a patch_size convolution, a learned pos_embed) or "t2t" (T2T-ViT: the `t2t` stem; patch_size
  // is the product of its strides; pos_embed is a fixed sinusoid table, held as a buffer).
  std::string stem = "patch";
  T2TStemSpec t2t;  // used when stem == "t2t"
  SwinSpec swin;    // used when swin.depths is not empty (a Swin Transformer; stem "patch")
  bool distilled = false;  // DeiT distillation token + head_dist; inference averages both heads
  bool qkv_bias = true;
  // LayerScale (DeiT III, CaiT; timm's init_values): each block's attention and MLP outputs are
  // multiplied by a learned per-channel gamma (ls1.gamma, ls2.gamma, embed_dim wide) before the
  // residual add. A gamma goes with its branch when the branch is removed.
  bool layer_scale = false;
  // timm's no_embed_class (DeiT III): pos_embed holds one row per patch and none for the cls/dist
  // tokens, which are concatenated after the patches' position embedding is added.
  bool no_embed_class = false;
  double norm_eps = 1e-6;
  // Input normalisation the model was trained with (per channel), recorded for data pipelines.
  std::vector<double> mean = imagenet_mean();
  std::vector<double> std = imagenet_std();
  std::vector<BlockSpec> blocks;

  bool is_t2t() const { return stem == "t2t"; }
  bool is_swin() const { return !swin.depths.empty(); }
  int depth() const { return static_cast<int>(blocks.size()); }
  int num_patches() const;  // tokens the stem makes (Swin: of the first stage)
  int num_prefix_tokens() const { return is_swin() ? 0 : distilled ? 2 : 1; }
  int num_tokens() const { return num_patches() + num_prefix_tokens(); }
  int pos_embed_rows() const { return no_embed_class ? num_patches() : num_tokens(); }
  bool has_pos_embed() const { return !is_swin(); }
  // Per-block geometry: methods and complexity.h ask these, never embed_dim or num_tokens().
  int num_stages() const { return is_swin() ? static_cast<int>(swin.depths.size()) : 1; }
  int stage_of(int i) const;          // the stage block i belongs to (0 for a ViT)
  int stage_first_block(int s) const;  // the first block of stage s
  int stage_side(int s) const;        // Swin: the token grid side of stage s
  int block_dim(int i) const;         // the width block i works at
  int final_dim() const { return block_dim(depth() - 1); }  // final norm and head width
  AttentionWindow block_window(int i) const;
  // Keys each query of block i attends to: its window's tokens, or all the block's tokens.
  int block_keys(int i) const;
  // Token pruning: the patch positions block i processes (every patch unless a block at or
  // before i lists tokens), and its token count with the cls/dist tokens.
  std::vector<int> block_patches(int i) const;
  int block_tokens(int i) const;
  bool drops_tokens() const;  // some block lists tokens
  // Throws vitc::Error naming the field (and block) that is inconsistent.
  void validate() const;
  bool operator==(const ViTConfig& o) const;
};

// A dense ViT with `heads` equal heads of width embed_dim/heads and mlp_hidden = mlp_ratio * dim.
ViTConfig make_uniform_config(const std::string& name, int img_size, int patch_size, int in_chans,
                              int num_classes, int embed_dim, int depth, int heads,
                              double mlp_ratio, bool distilled);

// Named configs: deit_{tiny,small,base}_patch16_224, deit_*_distilled_patch16_224,
// vit_base_patch16_224, DeiT III (deit3_{small,medium,base,large}_patch16_224,
// deit3_{small,base,large}_patch16_384, deit3_huge_patch14_224), T2T-ViT (t2t_vit_{7,10,12,14,
// 19,24}, t2t_vit_t_{14,19,24}), Swin (swin_{tiny,small,base}_patch4_window7_224,
// swin_base_patch4_window12_384), and the Fashion-MNIST configs fm_tiny, fm_small, fm_t2t, fm_swin
// (28x28, 1 channel).
ViTConfig named_config(const std::string& name);  // throws listing the valid names
std::vector<std::string> named_config_names();
bool is_named_config(const std::string& name);

nlohmann::json config_to_json(const ViTConfig& config);
// `where` names the source (a file path) and `path` the object's own key path ("config.") in
// error messages. Every integer must be integral and within the bounds above (nothing is
// truncated); every number finite.
ViTConfig config_from_json(const nlohmann::json& j, const std::string& where,
                           const std::string& path = "");

// For code that walks a model's blocks with every token (feature mimicking, PRACTISE, the
// searches): throws naming `what` and the first block that drops tokens.
void check_keeps_every_token(const ViTConfig& config, const std::string& what);

}  // namespace vitc
