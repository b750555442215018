// Inferring a T2T-ViT config from the shapes of a checkpoint in the repository's layout.
#include "model/families/t2t/t2t_import.h"

#include <cmath>

#include "util/error.h"

namespace vitc {

namespace {

const at::Tensor& need(const TensorMap& w, const std::string& key, int64_t dims,
                       const std::string& where) {
  const auto it = w.find(key);
  check(it != w.end(), where, ": not a T2T-ViT checkpoint in the repository's layout: tensor '",
        key, "' is missing");
  check(it->second.dim() == dims, where, ": tensor '", key, "' should have ", dims,
        " dimensions, has shape ", it->second.sizes());
  return it->second;
}

}  // namespace

bool is_t2t_checkpoint(const TensorMap& weights) {
  return weights.count("tokens_to_token.project.weight") > 0;
}

ViTConfig infer_t2t_config(const TensorMap& w, const CheckpointSidecar& sidecar,
                           const std::string& where, std::string* how) {
  ViTConfig c;
  c.stem = "t2t";  // the repository's splits: the defaults of T2TStemSpec
  const bool performer = w.count("tokens_to_token.attention1.w") > 0;
  c.t2t.attention = performer ? "performer" : "transformer";
  const std::string first = performer ? "tokens_to_token.attention1.kqv.weight"
                                      : "tokens_to_token.attention1.attn.qkv.weight";
  const at::Tensor& kqv = need(w, first, 2, where);
  const at::Tensor& project = need(w, "tokens_to_token.project.weight", 2, where);
  const at::Tensor& pos = need(w, "pos_embed", 3, where);
  const at::Tensor& head = need(w, "head.weight", 2, where);
  need(w, "cls_token", 3, where);
  check(kqv.size(0) % 3 == 0, where, ": ", first, " has ", kqv.size(0),
        " rows, not 3 x the token width");
  c.t2t.token_dim = static_cast<int>(kqv.size(0) / 3);
  const int64_t kernel_area = int64_t{c.t2t.splits[0].kernel} * c.t2t.splits[0].kernel;
  check(kqv.size(1) % kernel_area == 0, where, ": ", first, " takes ", kqv.size(1),
        " inputs, not channels x ", kernel_area, " (the first soft split's 7x7 kernel)");
  c.in_chans = static_cast<int>(kqv.size(1) / kernel_area);
  c.embed_dim = static_cast<int>(project.size(0));
  c.num_classes = static_cast<int>(head.size(0));
  const int64_t patches = pos.size(1) - 1;
  const auto side = static_cast<int64_t>(
      std::llround(std::sqrt(static_cast<double>(std::max<int64_t>(patches, 0)))));
  check(patches > 0 && side * side == patches, where, ": pos_embed has ", pos.size(1),
        " positions, which is not a class token plus a square grid of patches");
  c.patch_size = 16;  // the product of the splits' strides 4 x 2 x 2
  c.img_size = static_cast<int>(side) * c.patch_size;
  c.qkv_bias = w.count("blocks.0.attn.qkv.bias") > 0;
  c.norm_eps = 1e-5;

  int depth = 0;
  while (w.count(str_cat("blocks.", depth, ".attn.qkv.weight"))) ++depth;
  check(depth > 0, where,
        ": T2T-ViT checkpoint without blocks: 'blocks.0.attn.qkv.weight' is missing");
  std::string match, source;
  for (const std::string& name : named_config_names()) {
    const ViTConfig n = named_config(name);
    if (n.is_t2t() && n.t2t == c.t2t && n.embed_dim == c.embed_dim && n.depth() == depth &&
        n.in_chans == c.in_chans && n.img_size == c.img_size &&
        (sidecar.architecture.empty() || sidecar.architecture == name)) {
      match = name;
      break;
    }
  }
  const int heads = infer_heads(c.embed_dim, sidecar, match, where, &source);
  const int head_dim = c.embed_dim / heads;
  for (int i = 0; i < depth; ++i) {
    const at::Tensor& fc1 = need(w, str_cat("blocks.", i, ".mlp.fc1.weight"), 2, where);
    BlockSpec b;
    b.heads.assign(heads, HeadSpec{head_dim, head_dim});
    b.mlp_hidden = static_cast<int>(fc1.size(0));
    b.attn_scale = 1.0 / std::sqrt(static_cast<double>(c.embed_dim));  // the released qk_scale
    c.blocks.push_back(b);
  }
  c.name = !sidecar.architecture.empty() ? sidecar.architecture
           : !match.empty()              ? match
                                         : str_cat("t2t_imported_d", c.embed_dim, "_l", depth);
  if (c.in_chans != 3) {
    c.mean.assign(c.in_chans, 0.5);
    c.std.assign(c.in_chans, 0.5);
  }
  apply_sidecar_and_validate(c, sidecar, where);
  if (how != nullptr) {
    *how = str_cat("T2T-ViT, ", config_origin(sidecar), "; ", source,
                   "; softmax scale embed_dim^-0.5 (the repository's qk_scale for its released "
                   "weights)");
  }
  return c;
}

}  // namespace vitc
