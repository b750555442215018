// Soft masks of ViT-Slim: creation, the masked view, the L1 term and (de)serialisation.
#include "compress/slim/slim_masks.h"

#include <algorithm>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "util/error.h"

namespace vitc {

SlimGeometry slim_geometry(const ViTConfig& config) {
  check(config.depth() > 0, "ViT-Slim: model '", config.name, "' has no blocks");
  check_keeps_every_token(config, "the ViT-Slim search");
  SlimGeometry g;
  g.blocks = config.depth();
  g.patches = config.num_patches();
  g.prefix_tokens = config.num_prefix_tokens();
  for (int i = 0; i < config.depth(); ++i) {
    const BlockSpec& b = config.blocks[i];
    const std::string where = str_cat("ViT-Slim needs a dense source model, but block ", i,
                                      " of model '", config.name, "' ");
    check(b.has_attention() && b.has_mlp(), where, "has its attention or MLP removed");
    for (const HeadSpec& h : b.heads) {
      check(h == b.heads[0] && h.v_dim == h.qk_dim, where, "has heads of unequal widths");
    }
    g.heads.push_back(static_cast<int>(b.heads.size()));
    g.head_dim.push_back(b.heads[0].qk_dim);
    g.mlp_hidden.push_back(b.mlp_hidden);
    g.max_heads = std::max(g.max_heads, g.heads.back());
    g.max_head_dim = std::max(g.max_head_dim, g.head_dim.back());
    g.max_mlp_hidden = std::max(g.max_mlp_hidden, g.mlp_hidden.back());
  }
  return g;
}

at::Tensor SlimGeometry::attn_valid() const {
  at::Tensor valid = torch::zeros({blocks, max_heads, max_head_dim}, torch::kBool);
  for (int l = 0; l < blocks; ++l) valid[l].narrow(0, 0, heads[l]).narrow(1, 0, head_dim[l]).fill_(true);
  return valid;
}

at::Tensor SlimGeometry::mlp_valid() const {
  at::Tensor valid = torch::zeros({blocks, max_mlp_hidden}, torch::kBool);
  for (int l = 0; l < blocks; ++l) valid[l].narrow(0, 0, mlp_hidden[l]).fill_(true);
  return valid;
}

SlimMasks make_slim_masks(const ViTConfig& config, bool with_tokens) {
  const SlimGeometry g = slim_geometry(config);
  check(!with_tokens || !config.is_swin(), "ViT-Slim's token search needs a ViT: model '",
        config.name, "' is a Swin, whose windows need every token (search without --tokens)");
  SlimMasks m;
  m.attn = g.attn_valid().to(torch::kFloat);
  m.mlp = g.mlp_valid().to(torch::kFloat);
  if (with_tokens) m.tokens = torch::full({g.blocks, g.patches}, kTokenMaskInit);
  return m;
}

at::Tensor token_mask_values(const at::Tensor& z) {
  // The denominator goes through the same kernel, element for element, as the numerator, so a
  // fresh mask is exactly 1 (a scalar std::tanh may differ from the vectorised one in the last
  // bit).
  return torch::tanh(z) / torch::tanh(torch::full_like(z, kTokenMaskInit));
}

ModelMasks slim_model_masks(const SlimMasks& masks, const ViTConfig& config) {
  const SlimGeometry g = slim_geometry(config);
  check(masks.attn.dim() == 3 && masks.attn.size(0) == g.blocks, "ViT-Slim masks of ",
        masks.attn.dim() == 3 ? masks.attn.size(0) : -1, " blocks do not fit model '", config.name,
        "' (", g.blocks, " blocks)");
  ModelMasks view;
  at::Tensor token_values;
  at::Tensor prefix;
  if (masks.has_tokens()) {
    token_values = token_mask_values(masks.tokens);
    prefix = torch::ones({g.prefix_tokens}, token_values.options());
  }
  for (int l = 0; l < g.blocks; ++l) {
    BlockMasks b;
    b.qk = masks.attn[l].narrow(0, 0, g.heads[l]).narrow(1, 0, g.head_dim[l]).reshape({-1});
    b.v = b.qk;
    b.mlp = masks.mlp[l].narrow(0, 0, g.mlp_hidden[l]);
    if (masks.has_tokens()) b.tokens = torch::cat({prefix, token_values[l]});
    view.blocks.push_back(b);
  }
  return view;
}

at::Tensor slim_sparsity_loss(const SlimMasks& masks, const SparsityWeights& weights) {
  at::Tensor loss = weights.attn * masks.attn.abs().sum() + weights.mlp * masks.mlp.abs().sum();
  if (masks.has_tokens())
    loss = loss + weights.tokens * token_mask_values(masks.tokens).abs().sum();
  return loss;
}

nlohmann::json slim_mask_stats(const SlimMasks& masks, const ViTConfig& config) {
  torch::NoGradGuard no_grad;
  auto stats = [](const at::Tensor& values) {
    const at::Tensor a = values.abs();
    return nlohmann::json{{"mean_abs", a.mean().item<double>()},
                          {"near_zero", (a < 0.05).to(torch::kFloat).mean().item<double>()}};
  };
  const SlimGeometry g = slim_geometry(config);
  const auto valid = [&](const at::Tensor& values, const at::Tensor& where) {
    return values.detach().masked_select(where.to(values.device()));
  };
  nlohmann::json out = {{"attn", stats(valid(masks.attn, g.attn_valid()))},
                        {"mlp", stats(valid(masks.mlp, g.mlp_valid()))}};
  if (masks.has_tokens()) out["tokens"] = stats(token_mask_values(masks.tokens));
  return out;
}

TensorMap slim_masks_to_tensors(const SlimMasks& masks) {
  TensorMap out = {{"attn", masks.attn.detach().cpu()}, {"mlp", masks.mlp.detach().cpu()}};
  if (masks.has_tokens()) out["tokens"] = masks.tokens.detach().cpu();
  return out;
}

SlimMasks slim_masks_from_tensors(const TensorMap& tensors, const ViTConfig& config,
                                  const std::string& where) {
  const SlimGeometry g = slim_geometry(config);
  auto get = [&](const std::string& key, std::vector<int64_t> shape) {
    auto it = tensors.find(key);
    check(it != tensors.end(), where, ": no tensor '", key, "' (ViT-Slim masks)");
    check(it->second.scalar_type() == torch::kFloat, where, ": tensor '", key,
          "' must be float32, got ", it->second.scalar_type());
    check(it->second.sizes() == at::IntArrayRef(shape), where, ": tensor '", key, "' has shape ",
          it->second.sizes(), ", expected ", at::IntArrayRef(shape), " for model '", config.name,
          "'");
    return it->second;
  };
  for (const auto& [key, t] : tensors) {
    check(key == "attn" || key == "mlp" || key == "tokens", where, ": unexpected tensor '", key,
          "'; ViT-Slim masks are attn, mlp and tokens");
  }
  SlimMasks m;
  m.attn = get("attn", {g.blocks, g.max_heads, g.max_head_dim});
  m.mlp = get("mlp", {g.blocks, g.max_mlp_hidden});
  if (tensors.count("tokens")) m.tokens = get("tokens", {g.blocks, g.patches});
  return m;
}

}  // namespace vitc
