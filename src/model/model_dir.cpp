// Saving and loading model directories.
#include "model/model_dir.h"

#include <filesystem>

#include "model/complexity.h"
#include "model/state_dict.h"
#include "model/structure.h"
#include "model/timm_import.h"
#include "util/error.h"
#include "util/files.h"
#include "util/json_read.h"

namespace vitc {

void save_model_dir(const std::string& dir, VisionTransformerImpl& model, const nlohmann::json& extra) {
  make_dirs(dir);
  nlohmann::json meta = {{"format", "vitc-model"}, {"version", 1}};
  for (auto it = extra.begin(); it != extra.end(); ++it) meta[it.key()] = it.value();
  meta["config"] = config_to_json(model.config());
  write_safetensors(dir + "/" + kWeightsFile, state_dict(model), {{"format", "pt"}});
  write_json(dir + "/" + kModelJsonFile, meta);
}

std::string model_family(const nlohmann::json& model_json, const std::string& where) {
  if (!model_json.is_object() || !model_json.contains("family")) return kTransformerFamily;
  const nlohmann::json& family = model_json["family"];
  check(family.is_string(), "'", where, "': key 'family' must be a string, got ", json_brief(family));
  return family.get<std::string>();
}

nlohmann::json read_model_json(const std::string& dir, const std::string& family,
                               const std::string& works_on) {
  const std::string json_path = dir + "/" + kModelJsonFile;
  check(file_exists(json_path), "model directory '", dir, "' has no ", kModelJsonFile);
  check(file_exists(dir + "/" + kWeightsFile), "model directory '", dir, "' has no ", kWeightsFile);
  nlohmann::json model_json = read_json(json_path);
  check(model_json.is_object() && model_json.contains("config"), "'", json_path,
        "' has no \"config\" object");
  const std::string found = model_family(model_json, json_path);
  check(found == family, "'", json_path, "' holds a model of family \"", found,
        "\", which this command does not take: it works on ", works_on);
  return model_json;
}

LoadedModel load_model_dir(const std::string& dir) {
  const std::string json_path = dir + "/" + kModelJsonFile;
  const std::string weights_path = dir + "/" + kWeightsFile;
  LoadedModel loaded;
  loaded.model_json = read_model_json(
      dir, kTransformerFamily, "Vision Transformers (ViT, DeiT, DeiT III, T2T-ViT, Swin)");
  const ViTConfig config = config_from_json(loaded.model_json["config"], json_path, "config.");
  read_compressed_info(loaded.model_json, config, json_path);  // a compressed model's structure
  const SafetensorsFile weights = read_safetensors(weights_path);
  // Compared before the model is built: a config whose sizes disagree with the weights must not
  // first allocate and initialise a model of its own size (tens of GB for a mistyped embed_dim).
  int64_t stored = 0;
  for (const auto& [name, tensor] : weights.tensors) stored += tensor.numel();
  const int64_t expected = compute_complexity(config).params();
  check(stored == expected, "'", json_path, "' describes a model of ", expected,
        " parameters (embed_dim ", config.embed_dim, ", ", config.depth(), " blocks), but '",
        weights_path, "' holds ", stored, " values: the config does not match the weights");
  loaded.model = VisionTransformer(config);
  load_state_dict(*loaded.model, weights.tensors, weights_path);
  loaded.source = dir;
  return loaded;
}

void check_model_spec(const std::string& name_or_dir) {
  check(std::filesystem::is_directory(name_or_dir) || is_named_config(name_or_dir) ||
            is_checkpoint_file(name_or_dir),
        "'", name_or_dir, "' is neither a model directory, a checkpoint file (.safetensors, .pth) "
        "nor a known config; valid config names are: ", join(named_config_names()));
}

LoadedModel load_model_spec(const std::string& name_or_dir, uint64_t seed) {
  check_model_spec(name_or_dir);
  // A timm/DeiT checkpoint file, or a downloaded hub folder (model.safetensors without model.json).
  if (is_checkpoint_file(name_or_dir)) return import_checkpoint(name_or_dir);
  if (std::filesystem::is_directory(name_or_dir) &&
      !file_exists(name_or_dir + "/" + kModelJsonFile) &&
      file_exists(name_or_dir + "/" + kWeightsFile)) {
    return import_checkpoint(name_or_dir + "/" + kWeightsFile);
  }
  if (std::filesystem::is_directory(name_or_dir)) return load_model_dir(name_or_dir);
  LoadedModel loaded;
  loaded.model = make_model(named_config(name_or_dir), seed);
  loaded.model_json = {{"config", config_to_json(loaded.model->config())}};
  loaded.source = str_cat("config ", name_or_dir, " (random weights, seed ", seed, ")");
  return loaded;
}

}  // namespace vitc
