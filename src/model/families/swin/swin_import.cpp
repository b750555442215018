// timm Swin checkpoints: renaming to vitc's layout, checking the fixed buffers, inferring the
// config from the shapes.
#include "model/families/swin/swin_import.h"

#include <cmath>
#include <map>
#include <regex>

#include <torch/torch.h>

#include "model/families/swin/swin_windows.h"
#include "util/error.h"
#include "util/input_stats.h"

namespace vitc {

namespace {

const at::Tensor& need(const TensorMap& w, const std::string& key, int64_t dims,
                       const std::string& where) {
  const auto it = w.find(key);
  check(it != w.end(), where, ": not a complete timm Swin checkpoint: tensor '", key,
        "' is missing");
  check(it->second.dim() == dims, where, ": tensor '", key, "' should have ", dims,
        " dimensions, has shape ", it->second.sizes());
  return it->second;
}

// Keys of Swin variants vitc does not implement.
void refuse_swin_variants(const TensorMap& w, const std::string& where) {
  static const std::vector<std::pair<std::string, std::string>> variants = {
      {"cpb_mlp", "Swin V2's continuous position bias"},
      {"logit_scale", "Swin V2's cosine attention"},
      {".q_bias", "Swin V2's separate q/v biases"},
      {"absolute_pos_embed", "an absolute position embedding (ape=True)"},
      {"head.hidden", "a head with a hidden layer"},
  };
  for (const auto& [key, tensor] : w) {
    for (const auto& [pattern, what] : variants) {
      check(key.find(pattern) == std::string::npos, where, ": this Swin variant is not supported: ",
            what, " (tensor '", key, "'); vitc imports timm's Swin Transformer (V1)");
    }
  }
}

int window_of_table(const at::Tensor& table, const std::string& key, const std::string& where) {
  const auto side = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(table.size(0)))));
  check(side * side == table.size(0) && side % 2 == 1, where, ": ", key, " has ", table.size(0),
        " rows, not (2 window - 1)^2 for a whole window");
  return static_cast<int>((side + 1) / 2);
}

}  // namespace

bool is_timm_swin_checkpoint(const TensorMap& weights) {
  return weights.count("layers.0.blocks.0.attn.relative_position_bias_table") > 0;
}

bool is_swin_weights(const TensorMap& weights) {
  return weights.count("blocks.0.attn.relative_position_bias_table") > 0;
}

TensorMap swin_weights_to_vitc(const TensorMap& w, const std::string& where) {
  refuse_swin_variants(w, where);
  const bool merges_at_stage_end = w.count("layers.0.downsample.reduction.weight") > 0;
  // Blocks per stage, to number blocks consecutively.
  std::vector<int> depths;
  for (int s = 0;; ++s) {
    int depth = 0;
    while (w.count(str_cat("layers.", s, ".blocks.", depth, ".norm1.weight"))) ++depth;
    if (depth == 0) break;
    depths.push_back(depth);
  }
  // Indices of at most 6 digits: a longer one does not match, and the strict load names the
  // tensor as unexpected (std::stoi would throw on it).
  const std::regex block_key(R"(^layers\.(\d{1,6})\.blocks\.(\d{1,6})\.(.+)$)");
  const std::regex merge_key(R"(^layers\.(\d{1,6})\.downsample\.(.+)$)");
  TensorMap out;
  for (const auto& [key, tensor] : w) {
    std::smatch m;
    std::string name = key;
    if (std::regex_match(key, m, block_key)) {
      const size_t stage = std::stoul(m[1]);
      check(stage < depths.size(), where, ": tensor '", key, "' belongs to stage ", stage,
            ", which has no norm1 in its block 0");
      int first = 0;
      for (size_t s = 0; s < stage; ++s) first += depths[s];
      const std::string rest = m[3];
      const int block = first + std::stoi(m[2]);
      if (rest == "attn.relative_position_index") {
        check(tensor.dim() == 2, where, ": tensor '", key, "' should have 2 dimensions, has shape ",
              tensor.sizes());
        const at::Tensor expected = relative_position_index(static_cast<int>(
            std::llround(std::sqrt(static_cast<double>(tensor.size(0))))));
        check(tensor.sizes() == expected.sizes() && tensor.to(torch::kLong).equal(expected), where,
              ": tensor '", key, "' is not the relative position index vitc computes for its "
              "window (another index order)");
        continue;
      }
      if (rest == "attn_mask") {  // [windows, w^2, w^2] of a shift by w / 2 (timm's)
        check(tensor.dim() == 3, where, ": tensor '", key, "' should have 3 dimensions, has shape ",
              tensor.sizes());
        const auto window = static_cast<int>(std::llround(std::sqrt(static_cast<double>(tensor.size(-1)))));
        const auto across = static_cast<int>(std::llround(std::sqrt(static_cast<double>(tensor.size(0)))));
        const at::Tensor expected = shifted_window_mask({across * window, window, window / 2});
        check(expected.defined() && tensor.sizes() == expected.sizes() &&
                  tensor.to(torch::kFloat).equal(expected),
              where, ": tensor '", key, "' is not the shifted-window mask vitc computes for ",
              window, "x", window, " windows shifted by ", window / 2);
        continue;
      }
      name = str_cat("blocks.", block, ".", rest);
    } else if (std::regex_match(key, m, merge_key)) {
      const int stage = std::stoi(m[1]) + (merges_at_stage_end ? 1 : 0);  // the stage it opens
      check(stage >= 1, where, ": tensor '", key, "' merges into stage 0, which nothing precedes");
      name = str_cat("merges.", stage - 1, ".", std::string(m[2]));
    } else if (key.rfind("head.fc.", 0) == 0) {
      name = "head." + key.substr(8);
    }
    check(out.emplace(name, tensor).second, where, ": tensors map to the same name '", name, "'");
  }
  return out;
}

ViTConfig infer_swin_config(const TensorMap& w, const CheckpointSidecar& sidecar,
                            const std::string& where, std::string* how) {
  const at::Tensor& patch = need(w, "patch_embed.proj.weight", 4, where);
  need(w, "patch_embed.norm.weight", 1, where);
  const at::Tensor& head = need(w, "head.weight", 2, where);
  ViTConfig c;
  read_patch_embedding(patch, c, where);
  c.num_classes = static_cast<int>(head.size(0));
  c.norm_eps = 1e-5;
  c.qkv_bias = w.count("blocks.0.attn.qkv.bias") > 0;
  c.swin.window_size =
      window_of_table(need(w, "blocks.0.attn.relative_position_bias_table", 2, where),
                      "blocks.0.attn.relative_position_bias_table", where);
  int depth = 0;
  while (w.count(str_cat("blocks.", depth, ".norm1.weight"))) ++depth;
  check(depth > 0, where, ": tensor 'blocks.0.norm1.weight' is missing");
  // Stages: a merge opens the next one; its reduction's input width is 4 x the stage's width.
  int stage_first = 0;
  for (int s = 0;; ++s) {
    check(s < 8, where, ": more than 8 stages of patch merging (merges.", s, ")");
    const std::string next = str_cat("merges.", s, ".reduction.weight");
    int end = depth;
    if (w.count(next)) {
      const int width = c.embed_dim << s;
      for (end = stage_first; end < depth; ++end) {
        const at::Tensor& qkv = need(w, str_cat("blocks.", end, ".attn.qkv.weight"), 2, where);
        if (qkv.size(1) != width) break;
      }
    }
    check(end > stage_first, where, ": stage ", s, " has no block of width ", c.embed_dim << s);
    c.swin.depths.push_back(end - stage_first);
    stage_first = end;
    if (!w.count(next)) break;
  }
  check(stage_first == depth, where, ": blocks ", stage_first, " to ", depth - 1,
        " follow the last patch merging but do not have its width");
  // The image size: a named config of these shapes, else the last stage is one window.
  std::string match;
  for (const std::string& name : named_config_names()) {
    const ViTConfig n = named_config(name);
    if (n.is_swin() && n.swin.depths == c.swin.depths && n.embed_dim == c.embed_dim &&
        n.patch_size == c.patch_size && n.in_chans == c.in_chans &&
        n.swin.window_size == c.swin.window_size &&
        (sidecar.architecture.empty() || name == sidecar.architecture)) {
      match = name;
      c.img_size = n.img_size;
      c.mean = n.mean;
      c.std = n.std;
      break;
    }
  }
  const int stages = static_cast<int>(c.swin.depths.size());
  std::vector<std::string> depths_text;
  for (int d : c.swin.depths) depths_text.push_back(std::to_string(d));
  check(!match.empty() || sidecar.architecture.empty() || !is_named_config(sidecar.architecture),
        where, ": ", sidecar.path, " names architecture '", sidecar.architecture,
        "' but the weights have another shape (width ", c.embed_dim, ", patch ", c.patch_size,
        ", window ", c.swin.window_size, ", blocks per stage ", join(depths_text), ")");
  if (match.empty()) {
    c.img_size = c.swin.window_size * c.patch_size * (1 << (stages - 1));
    c.mean = c.in_chans == 3 ? imagenet_mean()
                             : std::vector<double>(c.in_chans, 0.5);
    c.std = c.in_chans == 3 ? imagenet_std()
                            : std::vector<double>(c.in_chans, 0.5);
  }
  for (int i = 0; i < depth; ++i) {
    const std::string prefix = str_cat("blocks.", i, ".");
    const std::string table_key = prefix + "attn.relative_position_bias_table";
    const at::Tensor& table = need(w, table_key, 2, where);
    const at::Tensor& qkv = need(w, prefix + "attn.qkv.weight", 2, where);
    const at::Tensor& fc1 = need(w, prefix + "mlp.fc1.weight", 2, where);
    const int64_t width = qkv.size(1), heads = table.size(1);
    check(heads > 0 && width % heads == 0 && qkv.size(0) == 3 * width, where, ": ", prefix,
          "attn.qkv.weight is ", qkv.sizes(), " with ", heads,
          " heads in the bias table; expected [3 x width, width] with heads dividing the width");
    const int head_dim = static_cast<int>(width / heads);
    BlockSpec b;
    b.heads.assign(static_cast<size_t>(heads), HeadSpec{head_dim, head_dim});
    b.mlp_hidden = static_cast<int>(fc1.size(0));
    b.attn_scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
    c.blocks.push_back(b);
  }
  c.name = !sidecar.architecture.empty() ? sidecar.architecture
           : !match.empty()              ? match
                                         : str_cat("swin_imported_d", c.embed_dim, "_w",
                                                   c.swin.window_size, "_l", depth);
  apply_sidecar_and_validate(c, sidecar, where);
  // The image size decides every block's window: each bias table must be for that window.
  for (int i = 0; i < depth; ++i) {
    const int window = c.block_window(i).window;
    const std::string table_key = str_cat("blocks.", i, ".attn.relative_position_bias_table");
    const int table_window = window_of_table(w.at(table_key), table_key, where);
    check(table_window == window, where, ": ", table_key, " is for ", table_window, "x",
          table_window, " windows, but block ", i, " of a ", c.img_size, "-pixel image has ",
          window, "x", window,
          " windows (the image size is not in the weights: give the architecture in a config.json)");
  }
  if (how != nullptr) {
    *how = str_cat(config_origin(sidecar), "; ",
                   match.empty() ? str_cat("image size ", c.img_size,
                                           " (the last stage is one window)")
                                 : str_cat("image size of the named config '", match, "'"));
  }
  return c;
}

}  // namespace vitc
