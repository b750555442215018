// ViT configuration: global sizes plus one BlockSpec per block, so a compressed model is the same
// class as a dense one with other sizes. Named configs use timm's names.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace vitc {

// Upper bounds on every size a config may hold. They are far above any real ViT (ViT-g: width
// 1408, MLP 6144, 40 blocks, 16 heads) and keep a hostile or mistyped model.json from making vitc
// allocate tens of gigabytes before the weights are compared with it.
inline constexpr int kMaxImgSize = 8192;
inline constexpr int kMaxPatches = 65536;
inline constexpr int kMaxInChans = 64;
inline constexpr int kMaxClasses = 1 << 20;
inline constexpr int kMaxWidth = 16384;        // embed_dim, and each head's qk_dim and v_dim
inline constexpr int kMaxMlpHidden = 65536;
inline constexpr int kMaxHeads = 1024;
inline constexpr int kMaxDepth = 1024;

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

struct ViTConfig {
  std::string name;
  int img_size = 224;
  int patch_size = 16;
  int in_chans = 3;
  int num_classes = 1000;
  int embed_dim = 768;
  bool distilled = false;  // DeiT distillation token + head_dist; inference averages both heads
  bool qkv_bias = true;
  double norm_eps = 1e-6;
  // Input normalisation the model was trained with (per channel), recorded for data pipelines.
  std::vector<double> mean = {0.485, 0.456, 0.406};
  std::vector<double> std = {0.229, 0.224, 0.225};
  std::vector<BlockSpec> blocks;

  int depth() const { return static_cast<int>(blocks.size()); }
  int num_patches() const;
  int num_prefix_tokens() const { return distilled ? 2 : 1; }
  int num_tokens() const { return num_patches() + num_prefix_tokens(); }
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
// vit_base_patch16_224, and the Fashion-MNIST configs fm_tiny, fm_small (28x28, 1 channel).
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
