// The named configs (`vitc info --list`): timm's ViT/DeiT, DeiT III, Swin and the T2T-ViT
// repository's models at their published sizes, and the Fashion-MNIST teachers; the uniform
// config builder they share.
#include <cmath>
#include <functional>
#include <map>

#include "model/config.h"
#include "util/error.h"
#include "util/input_stats.h"

namespace vitc {

ViTConfig make_uniform_config(const std::string& name, int img_size, int patch_size, int in_chans,
                              int num_classes, int embed_dim, int depth, int heads,
                              double mlp_ratio, bool distilled) {
  check(heads > 0 && embed_dim % heads == 0, "config '", name, "': embed_dim ", embed_dim,
        " is not divisible by the number of heads ", heads);
  ViTConfig c;
  c.name = name;
  c.img_size = img_size;
  c.patch_size = patch_size;
  c.in_chans = in_chans;
  c.num_classes = num_classes;
  c.embed_dim = embed_dim;
  c.distilled = distilled;
  if (in_chans != 3) {  // ImageNet statistics only make sense for RGB; callers set their own
    c.mean.assign(in_chans, 0.5);
    c.std.assign(in_chans, 0.5);
  }
  const int head_dim = embed_dim / heads;
  BlockSpec block;
  block.heads.assign(heads, HeadSpec{head_dim, head_dim});
  block.mlp_hidden = static_cast<int>(std::lround(embed_dim * mlp_ratio));
  block.attn_scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
  c.blocks.assign(depth, block);
  return c;
}

namespace {

ViTConfig imagenet(const std::string& name, int dim, int depth, int heads, bool distilled,
                   bool inception_norm) {
  ViTConfig c = make_uniform_config(name, 224, 16, 3, 1000, dim, depth, heads, 4.0, distilled);
  if (inception_norm) {  // timm's vit_base_patch16_224 (augreg) normalises with 0.5/0.5
    c.mean = {0.5, 0.5, 0.5};
    c.std = {0.5, 0.5, 0.5};
  }
  return c;
}

// DeiT III (timm's deit3_*): LayerScale, position embedding of the patches only.
ViTConfig deit3(const std::string& name, int img_size, int patch_size, int dim, int depth,
                int heads) {
  ViTConfig c = make_uniform_config(name, img_size, patch_size, 3, 1000, dim, depth, heads, 4.0,
                                    false);
  c.layer_scale = true;
  c.no_embed_class = true;
  return c;
}

// T2T-ViT (yitu-opensource/T2T-ViT): the tokens-to-token stem, blocks without qkv bias, LayerNorm
// eps 1e-5 (PyTorch's default there), and the softmax scale of its released checkpoints,
// embed_dim^-0.5 (the repository sets qk_scale so when it loads pretrained weights).
ViTConfig t2t_vit(const std::string& name, const std::string& attention, int dim, int depth,
                  int heads, double mlp_ratio) {
  ViTConfig c = make_uniform_config(name, 224, 16, 3, 1000, dim, depth, heads, mlp_ratio, false);
  c.stem = "t2t";
  c.t2t.attention = attention;
  c.qkv_bias = false;
  c.norm_eps = 1e-5;
  for (BlockSpec& b : c.blocks) b.attn_scale = 1.0 / std::sqrt(static_cast<double>(dim));
  return c;
}

// Swin Transformer (timm's swin_*): stage widths embed_dim * 2^s with heads[s] heads of equal
// width, MLP ratio 4, LayerNorm eps 1e-5 (PyTorch's default, as timm's Swin uses).
ViTConfig swin(const std::string& name, int img_size, int patch_size, int in_chans,
               int num_classes, int window, int dim, const std::vector<int>& depths,
               const std::vector<int>& heads) {
  ViTConfig c = make_uniform_config(name, img_size, patch_size, in_chans, num_classes, dim, 0,
                                    heads[0], 4.0, false);
  c.norm_eps = 1e-5;
  c.swin.window_size = window;
  c.swin.depths = depths;
  for (size_t s = 0; s < depths.size(); ++s) {
    const int width = dim << s, head_dim = width / heads[s];
    BlockSpec block;
    block.heads.assign(static_cast<size_t>(heads[s]), HeadSpec{head_dim, head_dim});
    block.mlp_hidden = 4 * width;
    block.attn_scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
    c.blocks.insert(c.blocks.end(), static_cast<size_t>(depths[s]), block);
  }
  return c;
}

ViTConfig fashion_mnist(const std::string& name, int patch, int dim, int depth, int heads,
                        double mlp_ratio) {
  ViTConfig c = make_uniform_config(name, 28, patch, 1, 10, dim, depth, heads, mlp_ratio, false);
  c.mean = {kFashionMnistMean};
  c.std = {kFashionMnistStd};
  return c;
}

const std::map<std::string, std::function<ViTConfig()>>& registry() {
  static const std::map<std::string, std::function<ViTConfig()>> configs = {
      {"deit_tiny_patch16_224", [] { return imagenet("deit_tiny_patch16_224", 192, 12, 3, false, false); }},
      {"deit_small_patch16_224", [] { return imagenet("deit_small_patch16_224", 384, 12, 6, false, false); }},
      {"deit_base_patch16_224", [] { return imagenet("deit_base_patch16_224", 768, 12, 12, false, false); }},
      {"deit_tiny_distilled_patch16_224", [] { return imagenet("deit_tiny_distilled_patch16_224", 192, 12, 3, true, false); }},
      {"deit_small_distilled_patch16_224", [] { return imagenet("deit_small_distilled_patch16_224", 384, 12, 6, true, false); }},
      {"deit_base_distilled_patch16_224", [] { return imagenet("deit_base_distilled_patch16_224", 768, 12, 12, true, false); }},
      {"vit_base_patch16_224", [] { return imagenet("vit_base_patch16_224", 768, 12, 12, false, true); }},
      {"deit3_small_patch16_224", [] { return deit3("deit3_small_patch16_224", 224, 16, 384, 12, 6); }},
      {"deit3_small_patch16_384", [] { return deit3("deit3_small_patch16_384", 384, 16, 384, 12, 6); }},
      {"deit3_medium_patch16_224", [] { return deit3("deit3_medium_patch16_224", 224, 16, 512, 12, 8); }},
      {"deit3_base_patch16_224", [] { return deit3("deit3_base_patch16_224", 224, 16, 768, 12, 12); }},
      {"deit3_base_patch16_384", [] { return deit3("deit3_base_patch16_384", 384, 16, 768, 12, 12); }},
      {"deit3_large_patch16_224", [] { return deit3("deit3_large_patch16_224", 224, 16, 1024, 24, 16); }},
      {"deit3_large_patch16_384", [] { return deit3("deit3_large_patch16_384", 384, 16, 1024, 24, 16); }},
      {"deit3_huge_patch14_224", [] { return deit3("deit3_huge_patch14_224", 224, 14, 1280, 32, 16); }},
      {"t2t_vit_7", [] { return t2t_vit("t2t_vit_7", "performer", 256, 7, 4, 2.0); }},
      {"t2t_vit_10", [] { return t2t_vit("t2t_vit_10", "performer", 256, 10, 4, 2.0); }},
      {"t2t_vit_12", [] { return t2t_vit("t2t_vit_12", "performer", 256, 12, 4, 2.0); }},
      {"t2t_vit_14", [] { return t2t_vit("t2t_vit_14", "performer", 384, 14, 6, 3.0); }},
      {"t2t_vit_19", [] { return t2t_vit("t2t_vit_19", "performer", 448, 19, 7, 3.0); }},
      {"t2t_vit_24", [] { return t2t_vit("t2t_vit_24", "performer", 512, 24, 8, 3.0); }},
      {"t2t_vit_t_14", [] { return t2t_vit("t2t_vit_t_14", "transformer", 384, 14, 6, 3.0); }},
      {"t2t_vit_t_19", [] { return t2t_vit("t2t_vit_t_19", "transformer", 448, 19, 7, 3.0); }},
      {"t2t_vit_t_24", [] { return t2t_vit("t2t_vit_t_24", "transformer", 512, 24, 8, 3.0); }},
      // Fashion-MNIST: fm_tiny for tests, fm_small the default teacher (see README for timings),
      // fm_t2t a T2T-ViT of fm_small's width: soft splits 3/2/1, 3/1/1, 3/2/1 take 28x28 to 7x7
      // (fm_small's 49 tokens) through 14x14 maps, Performer token attentions of width 32.
      {"swin_tiny_patch4_window7_224", [] { return swin("swin_tiny_patch4_window7_224", 224, 4, 3, 1000, 7, 96, {2, 2, 6, 2}, {3, 6, 12, 24}); }},
      {"swin_small_patch4_window7_224", [] { return swin("swin_small_patch4_window7_224", 224, 4, 3, 1000, 7, 96, {2, 2, 18, 2}, {3, 6, 12, 24}); }},
      {"swin_base_patch4_window7_224", [] { return swin("swin_base_patch4_window7_224", 224, 4, 3, 1000, 7, 128, {2, 2, 18, 2}, {4, 8, 16, 32}); }},
      {"swin_base_patch4_window12_384", [] { return swin("swin_base_patch4_window12_384", 384, 4, 3, 1000, 12, 128, {2, 2, 18, 2}, {4, 8, 16, 32}); }},
      // fm_swin: Swin-T's last two stages on Fashion-MNIST: patch 2 makes a 14x14 grid of width
      // 32 (six blocks, 2x2 shifted 7x7 windows, 2 heads), merged to 7x7 at width 64 (two blocks,
      // one window, 4 heads); about fm_small's MACs.
      {"fm_swin", [] {
         ViTConfig c = swin("fm_swin", 28, 2, 1, 10, 7, 32, {6, 2}, {2, 4});
         c.mean = {kFashionMnistMean};
         c.std = {kFashionMnistStd};
         return c;
       }},
      {"fm_tiny", [] { return fashion_mnist("fm_tiny", 7, 64, 4, 4, 2.0); }},
      {"fm_small", [] { return fashion_mnist("fm_small", 4, 64, 8, 4, 4.0); }},
      {"fm_t2t", [] {
         ViTConfig c = fashion_mnist("fm_t2t", 4, 64, 8, 4, 3.0);
         c.stem = "t2t";
         c.t2t.token_dim = 32;
         c.t2t.splits = {{3, 2, 1}, {3, 1, 1}, {3, 2, 1}};
         c.qkv_bias = false;
         c.norm_eps = 1e-5;
         return c;
       }},
  };
  return configs;
}

}  // namespace

std::vector<std::string> named_config_names() {
  std::vector<std::string> names;
  for (const auto& [name, make] : registry()) names.push_back(name);
  return names;
}

bool is_named_config(const std::string& name) { return registry().count(name) > 0; }

ViTConfig named_config(const std::string& name) {
  auto it = registry().find(name);
  check(it != registry().end(), "unknown model config '", name, "'; valid names are: ",
        join(named_config_names()));
  return it->second();
}

}  // namespace vitc
