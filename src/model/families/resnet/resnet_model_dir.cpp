// ResNet model directories, checkpoint import and model specs.
#include "model/families/resnet/resnet_model_dir.h"

#include <filesystem>

#include <torch/torch.h>

#include "model/families/resnet/resnet_complexity.h"
#include "model/families/resnet/resnet_structure.h"
#include "model/model_dir.h"
#include "model/state_dict.h"
#include "model/timm_import.h"
#include "util/error.h"
#include "util/files.h"

namespace vitc {
namespace {

int64_t stored_values(const ResNetConfig& config) {
  // Values model.safetensors holds: the parameters, plus each BatchNorm's running mean and
  // variance (one value each per channel) and its counter.
  int64_t bn_channels = config.stem_width, bn_layers = 1;
  for (int i = 0; i < config.depth(); ++i) {
    for (int w : config.blocks[i].inner) bn_channels += w;
    bn_channels += config.block_out(i);
    bn_layers += config.inner_convs() + 1;
    if (config.block_downsamples(i)) {
      bn_channels += config.block_out(i);
      ++bn_layers;
    }
  }
  return resnet_cost(config).params + 2 * bn_channels + bn_layers;
}

const at::Tensor& need(const TensorMap& weights, const std::string& key, int64_t dims,
                       const std::string& where) {
  auto it = weights.find(key);
  check(it != weights.end(), where, ": not a timm/torchvision ResNet checkpoint: tensor '", key,
        "' is missing");
  check(it->second.dim() == dims, where, ": tensor '", key, "' should have ", dims,
        " dimensions, has shape ", it->second.sizes());
  return it->second;
}

int out_channels(const TensorMap& w, const std::string& key, const std::string& where) {
  return static_cast<int>(need(w, key, 4, where).size(0));
}

}  // namespace

void save_resnet_dir(const std::string& dir, ResNetImpl& model, const nlohmann::json& extra) {
  make_dirs(dir);
  nlohmann::json meta = {{"format", "vitc-model"}, {"version", 1}, {"family", kResNetFamily}};
  for (auto it = extra.begin(); it != extra.end(); ++it) meta[it.key()] = it.value();
  meta["config"] = resnet_config_to_json(model.config());
  write_safetensors(dir + "/" + kWeightsFile, state_dict(model), {{"format", "pt"}});
  write_json(dir + "/" + kModelJsonFile, meta);
}

LoadedResNet load_resnet_dir(const std::string& dir) {
  const std::string json_path = dir + "/" + kModelJsonFile;
  const std::string weights_path = dir + "/" + kWeightsFile;
  LoadedResNet loaded;
  loaded.model_json = read_model_json(dir, kResNetFamily, "ResNets");
  const ResNetConfig config = resnet_config_from_json(loaded.model_json["config"], json_path, "config.");
  if (loaded.model_json.contains("structure") || loaded.model_json.contains("source_config")) {
    check(loaded.model_json.contains("structure") && loaded.model_json.contains("source_config"),
          json_path, ": a compressed model needs both \"structure\" and \"source_config\"");
    const ResNetConfig source =
        resnet_config_from_json(loaded.model_json["source_config"], json_path, "source_config.");
    const ResNetStructure structure =
        resnet_structure_from_json(loaded.model_json["structure"], source, json_path, "structure.");
    const ResNetConfig expected = compact_resnet_config(source, structure);
    check(expected.blocks == config.blocks, json_path,
          ": \"config\" is not what \"structure\" makes of \"source_config\" (", expected.depth(),
          " blocks expected, config has ", config.depth(), ", or other inner widths)");
  }
  const SafetensorsFile weights = read_safetensors(weights_path);
  int64_t stored = 0;
  for (const auto& [name, tensor] : weights.tensors) stored += tensor.numel();
  const int64_t expected = stored_values(config);
  check(stored == expected, "'", json_path, "' describes a ResNet of ", expected,
        " stored values (", config.depth(), " blocks), but '", weights_path, "' holds ", stored,
        ": the config does not match the weights");
  loaded.model = ResNet(config);
  load_state_dict(*loaded.model, weights.tensors, weights_path);
  loaded.source = dir;
  return loaded;
}

bool is_resnet_state_dict(const TensorMap& weights) {
  return weights.count("conv1.weight") > 0 && weights.count("layer1.0.conv1.weight") > 0;
}

ResNetConfig infer_resnet_config(const TensorMap& w, const std::string& where, std::string* how) {
  ResNetConfig c;
  const at::Tensor& stem = need(w, "conv1.weight", 4, where);
  const int64_t k = stem.size(2);
  check((k == 7 || k == 3) && stem.size(3) == k, where, ": tensor 'conv1.weight' has shape ",
        stem.sizes(), "; vitc's ResNet stems are a 7x7 conv (timm, torchvision) or a 3x3 conv");
  c.stem = k == 7 ? "imagenet" : "small";
  c.stem_width = static_cast<int>(stem.size(0));
  c.in_chans = static_cast<int>(stem.size(1));
  c.block = w.count("layer1.0.conv3.weight") ? "bottleneck" : "basic";
  c.planes.clear();
  for (int s = 0; w.count(str_cat("layer", s + 1, ".0.conv1.weight")); ++s) {
    check(s < 8, where, ": more than 8 stages (layer9.0.conv1.weight)");
    const std::string last = c.block == "bottleneck" ? "conv3" : "conv2";
    const int out = out_channels(w, str_cat("layer", s + 1, ".0.", last, ".weight"), where);
    check(out % c.expansion() == 0, where, ": tensor 'layer", s + 1, ".0.", last,
          ".weight' has ", out, " outputs, not a multiple of the bottleneck expansion 4");
    c.planes.push_back(out / c.expansion());
    for (int j = 0; w.count(str_cat("layer", s + 1, ".", j, ".conv1.weight")); ++j) {
      check(j < kMaxDepth, where, ": too many blocks in layer", s + 1);
      const std::string p = str_cat("layer", s + 1, ".", j, ".");
      ResNetBlockSpec b{s, {out_channels(w, p + "conv1.weight", where)}};
      if (c.block == "bottleneck") b.inner.push_back(out_channels(w, p + "conv2.weight", where));
      c.blocks.push_back(b);
    }
  }
  const at::Tensor& fc = need(w, "fc.weight", 2, where);
  c.num_classes = static_cast<int>(fc.size(0));
  c.bn_eps = 1e-5;
  std::string match;
  for (const std::string& name : named_resnet_config_names()) {
    ResNetConfig named = named_resnet_config(name);
    named.num_classes = c.num_classes;
    named.name = "";
    ResNetConfig mine = c;
    mine.name = "";
    mine.img_size = named.img_size;
    mine.mean = named.mean;
    mine.std = named.std;
    if (mine == named) match = name;
  }
  if (!match.empty()) {
    const ResNetConfig named = named_resnet_config(match);
    c.name = match;
    c.img_size = named.img_size;
    c.mean = named.mean;
    c.std = named.std;
  } else {
    c.name = str_cat("resnet_imported_", c.block, "_", c.depth());
    c.img_size = c.stem == "imagenet" ? 224 : 28;
    c.mean = c.in_chans == 3 ? imagenet_mean() : std::vector<double>(c.in_chans, 0.5);
    c.std = c.in_chans == 3 ? imagenet_std() : std::vector<double>(c.in_chans, 0.5);
  }
  if (how) {
    *how = match.empty() ? str_cat("inferred from the tensor shapes; image size ", c.img_size,
                                   " assumed for a ", c.stem, " stem")
                         : str_cat("inferred from the tensor shapes, which are those of ", match);
  }
  try {
    c.validate();
  } catch (const Error& e) {
    fail(where, ": ", e.what());
  }
  return c;
}

LoadedResNet import_resnet_checkpoint(const std::string& path) {
  TensorMap weights = read_checkpoint_tensors(path);
  std::string how;
  const ResNetConfig config = infer_resnet_config(weights, path, &how);
  LoadedResNet loaded;
  loaded.model = ResNet(config);
  // torchvision's older files predate BatchNorm's counter; it only matters for momentum=None.
  for (const auto& item : loaded.model->named_buffers(true)) {
    const std::string& name = item.key();
    if (name.size() > 19 && name.substr(name.size() - 19) == "num_batches_tracked" &&
        !weights.count(name)) {
      weights[name] = at::zeros({}, at::kLong);
    }
  }
  load_state_dict(*loaded.model, weights, path);
  loaded.model_json = {{"family", kResNetFamily},
                       {"config", resnet_config_to_json(config)},
                       {"imported_from", {{"file", path}, {"config", how}}}};
  loaded.source = path;
  return loaded;
}

bool is_resnet_spec(const std::string& name_or_path) {
  if (is_named_resnet_config(name_or_path)) return true;
  if (is_checkpoint_file(name_or_path)) return is_resnet_state_dict(read_checkpoint_tensors(name_or_path));
  if (!std::filesystem::is_directory(name_or_path)) return false;
  const std::string json_path = name_or_path + "/" + kModelJsonFile;
  if (file_exists(json_path)) return model_family(read_json(json_path), json_path) == kResNetFamily;
  const std::string weights = name_or_path + "/" + kWeightsFile;
  return file_exists(weights) && is_resnet_state_dict(read_checkpoint_tensors(weights));
}

LoadedResNet load_resnet_spec(const std::string& name_or_path, uint64_t seed) {
  if (is_checkpoint_file(name_or_path)) return import_resnet_checkpoint(name_or_path);
  if (std::filesystem::is_directory(name_or_path)) {
    if (!file_exists(name_or_path + "/" + kModelJsonFile) &&
        file_exists(name_or_path + "/" + kWeightsFile)) {
      return import_resnet_checkpoint(name_or_path + "/" + kWeightsFile);
    }
    return load_resnet_dir(name_or_path);
  }
  check(is_named_resnet_config(name_or_path), "'", name_or_path,
        "' is neither a model directory, a checkpoint file (.safetensors, .pth) nor a known ResNet "
        "config; valid ResNet config names are: ", join(named_resnet_config_names()));
  LoadedResNet loaded;
  loaded.model = make_resnet(named_resnet_config(name_or_path), seed);
  loaded.model_json = {{"family", kResNetFamily}, {"config", resnet_config_to_json(loaded.model->config())}};
  loaded.source = str_cat("config ", name_or_path, " (random weights, seed ", seed, ")");
  return loaded;
}

}  // namespace vitc
