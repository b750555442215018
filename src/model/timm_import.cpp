// Reading timm/DeiT checkpoints, refusing unsupported architectures, inferring the ViT config.
#include "model/timm_import.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <torch/torch.h>

#include "model/families/resnet/resnet_model_dir.h"
#include "model/families/swin/swin_import.h"
#include "model/families/t2t/t2t_import.h"
#include "model/state_dict.h"
#include "util/error.h"
#include "util/input_stats.h"
#include "util/json_read.h"
#include "util/files.h"

namespace vitc {

namespace fs = std::filesystem;

namespace {

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

std::string lower_extension(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

// A dict IValue of tensors -> TensorMap; `where` names the file for errors.
TensorMap tensors_from_dict(const c10::IValue& value, const std::string& where) {
  TensorMap out;
  for (const auto& item : value.toGenericDict()) {
    check(item.key().isString(), where, ": the state dict has a key that is not a string");
    const std::string key = item.key().toStringRef();
    check(item.value().isTensor(), where, ": entry '", key, "' is not a tensor");
    out[key] = item.value().toTensor().contiguous();
  }
  return out;
}

TensorMap read_pth(const std::string& path) {
  const std::string bytes = read_file(path);
  const std::string hint = str_cat(
      "; convert it once with vitc's python/pth_to_safetensors.py (needs PyTorch): python3 "
      "python/pth_to_safetensors.py ", path, " ", fs::path(path).replace_extension(".safetensors").string(),
      " and pass the .safetensors file");
  c10::IValue root;
  try {
    root = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
  } catch (const c10::Error& e) {
    std::string message = e.what_without_backtrace();
    message = message.substr(0, message.find('\n'));
    fail("cannot read PyTorch checkpoint '", path, "' with LibTorch ", TORCH_VERSION, " (", message,
         ")", hint);
  } catch (const std::exception& e) {
    fail("cannot read PyTorch checkpoint '", path, "' with LibTorch ", TORCH_VERSION, " (", e.what(),
         ")", hint);
  }
  check(root.isGenericDict(), "PyTorch checkpoint '", path, "' does not hold a dict (", root.tagKind(),
        ")", hint);
  for (const char* wrapper : {"model", "state_dict"}) {
    for (const auto& item : root.toGenericDict()) {
      if (item.key().isString() && item.key().toStringRef() == wrapper && item.value().isGenericDict()) {
        return tensors_from_dict(item.value(), str_cat(path, " [\"", wrapper, "\"]"));
      }
    }
  }
  return tensors_from_dict(root, path);
}

// Keys of timm features that vitc's ViT does not implement, with what they are.
const std::vector<std::pair<std::string, std::string>>& unsupported_features() {
  static const std::vector<std::pair<std::string, std::string>> features = {
      {".gamma_1", "LayerScale (BEiT)"},
      {"reg_token", "register tokens"},
      {"fc_norm.", "global-average-pool head (fc_norm)"},
      {"norm_pre.", "pre-norm before the blocks (CLIP-style)"},
      {".q_norm.", "qk normalisation"},
      {".k_norm.", "qk normalisation"},
      {"attn_pool.", "attention-pool head (MAP)"},
      {"pre_logits.", "pre-logits representation layer"},
      {"head.fc.", "a head with a hidden layer"},
      {"patch_embed.backbone.", "hybrid CNN stem (ResNet-ViT)"},
      {".q_bias", "separate q/v biases (BEiT)"},
      {"relative_position", "relative position bias (BEiT)"},
      {"layers.", "hierarchical stages (PVT, Twins, ...)"},
      {".attn.q.", "separate q/k/v projections"},
      {".attn.kv.", "separate q/k/v projections"},
      {".mlp.fc1_g.", "gated MLP (SwiGLU)"},
      {".mlp.w12.", "gated MLP (SwiGLU)"},
      {"embeddings.", "the Hugging Face transformers layout (ViTModel/DeiTModel); export it from timm"},
      {"encoder.layer.", "the Hugging Face transformers layout (ViTModel/DeiTModel); export it from timm"},
  };
  return features;
}

void refuse_unsupported(const TensorMap& weights, const CheckpointSidecar& sidecar,
                        const std::string& where) {
  std::map<std::string, std::vector<std::string>> found;  // feature -> example keys
  for (const auto& [key, tensor] : weights) {
    for (const auto& [pattern, feature] : unsupported_features()) {
      if (key.find(pattern) != std::string::npos) {
        auto& examples = found[feature];
        if (examples.size() < 3) examples.push_back(key);
        break;
      }
    }
  }
  if (found.empty()) return;
  std::vector<std::string> parts;
  for (const auto& [feature, keys] : found) parts.push_back(str_cat(feature, " (", join(keys), ")"));
  fail(where, ": ",
       sidecar.architecture.empty() ? std::string("this architecture")
                                    : str_cat("architecture '", sidecar.architecture, "'"),
       " is not supported: vitc imports timm VisionTransformer, DeiT, DeiT III and Swin "
       "checkpoints and T2T-ViT's (",
       join(named_config_names()), " and other sizes of them); the checkpoint has ",
       join(parts, "; "));
}

const at::Tensor& need(const TensorMap& weights, const std::string& key, int64_t dims,
                       const std::string& where) {
  auto it = weights.find(key);
  if (it == weights.end()) {
    std::vector<std::string> sample;
    for (const auto& [k, t] : weights) {
      if (sample.size() == 6) break;
      sample.push_back(k);
    }
    fail(where, ": not a timm ViT/DeiT checkpoint: tensor '", key, "' is missing (",
         weights.size(), " tensors, first: ", join(sample), ")");
  }
  check(it->second.dim() == dims, where, ": tensor '", key, "' should have ", dims,
        " dimensions, has shape ", it->second.sizes());
  return it->second;
}

std::vector<double> doubles(const nlohmann::json& j, const std::string& key, const std::string& where) {
  try {
    return j.get<std::vector<double>>();
  } catch (const nlohmann::json::exception&) {
    fail(where, ": key '", key, "' must be a list of numbers, got ", json_brief(j));
  }
}

}  // namespace

bool is_checkpoint_file(const std::string& path) {
  const std::string ext = lower_extension(path);
  return (ext == ".safetensors" || ext == ".pth" || ext == ".pt" || ext == ".bin") &&
         fs::is_regular_file(path);
}

TensorMap read_checkpoint_tensors(const std::string& path) {
  check(fs::is_regular_file(path), "checkpoint '", path, "' does not exist or is not a file");
  const std::string ext = lower_extension(path);
  TensorMap raw;
  if (ext == ".safetensors") {
    raw = read_safetensors(path).tensors;
  } else {
    check(ext == ".pth" || ext == ".pt" || ext == ".bin", "checkpoint '", path,
          "': unknown extension '", ext, "'; expected .safetensors, .pth, .pt or .bin");
    raw = read_pth(path);
  }
  TensorMap out;
  for (auto& [key, tensor] : raw) {
    const std::string name = starts_with(key, "module.") ? key.substr(7) : key;
    check(out.count(name) == 0, "checkpoint '", path, "': key '", name, "' appears twice (with and "
          "without the 'module.' prefix)");
    out[name] = tensor;
  }
  return out;
}

CheckpointSidecar read_sidecar(const std::string& checkpoint_path) {
  CheckpointSidecar sidecar;
  const std::string path = (fs::path(checkpoint_path).parent_path() / "config.json").string();
  if (!fs::is_regular_file(path)) return sidecar;
  sidecar.path = path;
  const nlohmann::json j = read_json(path);
  check(j.is_object(), "'", path, "' must hold a JSON object");
  if (j.contains("architecture")) {
    check(j["architecture"].is_string(), "'", path, "': key 'architecture' must be a string");
    sidecar.architecture = j["architecture"].get<std::string>();
  }
  for (const nlohmann::json* holder : {&j, j.contains("model_args") ? &j["model_args"] : nullptr}) {
    if (holder == nullptr || !holder->is_object() || !holder->contains("num_heads")) continue;
    check((*holder)["num_heads"].is_number_integer() && (*holder)["num_heads"].get<int>() > 0, "'",
          path, "': key 'num_heads' must be a positive integer, got ", json_brief((*holder)["num_heads"]));
    sidecar.num_heads = (*holder)["num_heads"].get<int>();
  }
  const nlohmann::json cfg = j.contains("pretrained_cfg") ? j["pretrained_cfg"] : j;
  if (cfg.is_object()) {
    if (cfg.contains("mean")) sidecar.mean = doubles(cfg["mean"], "pretrained_cfg.mean", path);
    if (cfg.contains("std")) sidecar.std = doubles(cfg["std"], "pretrained_cfg.std", path);
    if (cfg.contains("crop_pct")) {
      check(cfg["crop_pct"].is_number(), "'", path, "': key 'crop_pct' must be a number");
      sidecar.crop_pct = cfg["crop_pct"].get<double>();
      check(sidecar.crop_pct > 0 && sidecar.crop_pct <= 1, "'", path,
            "': crop_pct must be in (0, 1], got ", sidecar.crop_pct);
    }
  }
  return sidecar;
}

void apply_sidecar_and_validate(ViTConfig& config, const CheckpointSidecar& sidecar,
                                const std::string& where) {
  if (!sidecar.mean.empty()) config.mean = sidecar.mean;
  if (!sidecar.std.empty()) config.std = sidecar.std;
  try {
    config.validate();
  } catch (const Error& e) {
    fail(where, ": ", e.what());
  }
}

std::string config_origin(const CheckpointSidecar& sidecar) {
  return sidecar.path.empty() ? "inferred from the tensor shapes"
                              : str_cat("from the tensor shapes and ", sidecar.path);
}

void read_patch_embedding(const at::Tensor& patch, ViTConfig& c, const std::string& where) {
  c.embed_dim = static_cast<int>(patch.size(0));
  c.in_chans = static_cast<int>(patch.size(1));
  c.patch_size = static_cast<int>(patch.size(2));
  check(patch.size(3) == patch.size(2), where, ": patch_embed.proj.weight has non-square patches ",
        patch.sizes());
}

int infer_heads(int embed_dim, const CheckpointSidecar& sidecar, const std::string& match,
                const std::string& where, std::string* source) {
  int heads = sidecar.num_heads;
  if (heads > 0) {
    *source = str_cat("num_heads from ", sidecar.path);
  } else if (!match.empty()) {
    heads = static_cast<int>(named_config(match).blocks[0].heads.size());
    *source = str_cat("heads of ", match);
  } else {
    check(embed_dim % 64 == 0, where, ": cannot tell the number of heads of a ", embed_dim,
          "-wide model from its weights (no named config matches, and ", embed_dim,
          " is not a multiple of the usual head width 64); put a config.json with \"num_heads\" next "
          "to the checkpoint");
    heads = embed_dim / 64;
    *source = "head width 64 (no named config matches)";
  }
  check(embed_dim % heads == 0, where, ": width ", embed_dim, " is not divisible by ", heads,
        " heads (", *source, ")");
  return heads;
}

ViTConfig infer_timm_config(const TensorMap& w, const CheckpointSidecar& sidecar,
                            const std::string& where, std::string* how) {
  if (is_swin_weights(w)) return infer_swin_config(w, sidecar, where, how);
  refuse_unsupported(w, sidecar, where);
  if (is_t2t_checkpoint(w)) return infer_t2t_config(w, sidecar, where, how);
  const at::Tensor& patch = need(w, "patch_embed.proj.weight", 4, where);
  const at::Tensor& pos = need(w, "pos_embed", 3, where);
  need(w, "cls_token", 3, where);
  const at::Tensor& head = need(w, "head.weight", 2, where);
  const bool distilled = w.count("dist_token") > 0;
  check(distilled == (w.count("head_dist.weight") > 0), where, ": has ",
        distilled ? "dist_token but no head_dist" : "head_dist but no dist_token",
        "; a distilled DeiT needs both");

  ViTConfig c;
  read_patch_embedding(patch, c, where);
  c.distilled = distilled;
  c.num_classes = static_cast<int>(head.size(0));
  check(head.size(1) == c.embed_dim, where, ": head.weight is ", head.sizes(), " but the width is ",
        c.embed_dim);
  // pos_embed: prefix tokens + a square grid (timm's default), or the grid alone (no_embed_class,
  // DeiT III).
  const int64_t tokens = pos.size(1);
  const auto square_side = [](int64_t n) -> int64_t {
    if (n <= 0) return 0;
    const auto side = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(n))));
    return side * side == n ? side : 0;
  };
  int64_t side = square_side(tokens - c.num_prefix_tokens());
  if (side == 0) {
    side = square_side(tokens);
    check(side > 0, where, ": pos_embed has ", tokens, " positions, which is neither ",
          c.num_prefix_tokens(), " prefix token(s) plus a square grid of patches nor a square grid "
          "alone (timm's no_embed_class)");
    c.no_embed_class = true;
  }
  check(pos.size(2) == c.embed_dim, where, ": pos_embed is ", pos.sizes(), " but the width is ",
        c.embed_dim);
  c.img_size = static_cast<int>(side) * c.patch_size;

  int depth = 0;
  while (w.count(str_cat("blocks.", depth, ".attn.qkv.weight"))) ++depth;
  check(depth > 0, where, ": not a timm ViT/DeiT checkpoint: tensor 'blocks.0.attn.qkv.weight' is missing");
  c.qkv_bias = w.count("blocks.0.attn.qkv.bias") > 0;
  // LayerScale (timm's init_values): every block then has ls1.gamma and ls2.gamma; a checkpoint
  // where only some have them is refused by the strict load, naming the tensor.
  c.layer_scale = w.count("blocks.0.ls1.gamma") > 0 || w.count("blocks.0.ls2.gamma") > 0;

  // Heads: the sidecar, else a named config of the same shapes, else 64-wide heads.
  std::string source;
  const std::vector<std::string> names = named_config_names();
  std::string match;
  for (const std::string& name : names) {
    const ViTConfig n = named_config(name);
    if (n.embed_dim == c.embed_dim && n.depth() == depth && n.patch_size == c.patch_size &&
        n.img_size == c.img_size && n.in_chans == c.in_chans && n.distilled == c.distilled &&
        n.layer_scale == c.layer_scale && n.no_embed_class == c.no_embed_class) {
      if (!sidecar.architecture.empty() && name != sidecar.architecture) continue;
      match = name;
      break;
    }
  }
  if (!sidecar.architecture.empty() && is_named_config(sidecar.architecture) && match.empty()) {
    fail(where, ": ", sidecar.path, " names architecture '", sidecar.architecture,
         "' but the weights have another shape (width ", c.embed_dim, ", depth ", depth, ", patch ",
         c.patch_size, ", image ", c.img_size, c.distilled ? ", distilled" : "",
         c.layer_scale ? ", LayerScale" : ", no LayerScale",
         c.no_embed_class ? ", no class position embedding" : "", ")");
  }
  const int heads = infer_heads(c.embed_dim, sidecar, match, where, &source);
  const int head_dim = c.embed_dim / heads;

  for (int i = 0; i < depth; ++i) {
    const std::string prefix = str_cat("blocks.", i, ".");
    const at::Tensor& qkv = need(w, prefix + "attn.qkv.weight", 2, where);
    check(qkv.size(0) == 3 * c.embed_dim && qkv.size(1) == c.embed_dim, where, ": ", prefix,
          "attn.qkv.weight is ", qkv.sizes(), "; expected [", 3 * c.embed_dim, ", ", c.embed_dim, "]");
    const at::Tensor& fc1 = need(w, prefix + "mlp.fc1.weight", 2, where);
    BlockSpec b;
    b.heads.assign(heads, HeadSpec{head_dim, head_dim});
    b.mlp_hidden = static_cast<int>(fc1.size(0));
    b.attn_scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
    c.blocks.push_back(b);
  }
  c.norm_eps = 1e-6;  // timm's ViT and DeiT LayerNorm
  c.name = !sidecar.architecture.empty() ? sidecar.architecture
           : !match.empty()              ? match
                                         : str_cat("vit_imported_d", c.embed_dim, "_l", depth);
  if (c.in_chans == 3) {
    c.mean = imagenet_mean();
    c.std = imagenet_std();
    if (!match.empty()) {
      c.mean = named_config(match).mean;
      c.std = named_config(match).std;
    }
  } else {
    c.mean.assign(c.in_chans, 0.5);
    c.std.assign(c.in_chans, 0.5);
  }
  apply_sidecar_and_validate(c, sidecar, where);
  if (how != nullptr) *how = str_cat(config_origin(sidecar), "; ", source);
  return c;
}

LoadedModel import_checkpoint(const std::string& path) {
  TensorMap weights = read_checkpoint_tensors(path);
  check(!is_resnet_state_dict(weights), path, ": this is a ResNet checkpoint (conv1.weight, "
        "layer1.0.conv1.weight), not a Vision Transformer; `vitc import` makes it a ResNet model "
        "directory for `vitc practise run` and `vitc dcvit run` (docs/cnn.md)");
  if (is_timm_swin_checkpoint(weights)) weights = swin_weights_to_vitc(weights, path);
  const CheckpointSidecar sidecar = read_sidecar(path);
  std::string how;
  const ViTConfig config = infer_timm_config(weights, sidecar, path, &how);
  LoadedModel loaded;
  loaded.model = VisionTransformer(config);
  load_state_dict(*loaded.model, weights, path);
  nlohmann::json imported = {{"file", path}, {"config", how}};
  loaded.model_json = {{"config", config_to_json(config)}, {"imported_from", imported}};
  if (sidecar.crop_pct > 0) loaded.model_json["preprocess"] = {{"crop_pct", sidecar.crop_pct}};
  loaded.source = path;
  return loaded;
}

}  // namespace vitc
