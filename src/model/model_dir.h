// A model directory: model.safetensors (timm key names) + model.json (config, and the Structure
// once a method has produced one). Enough to rebuild the model with no code change; no pickles.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "model/vit.h"

namespace vitc {

inline constexpr const char* kWeightsFile = "model.safetensors";
inline constexpr const char* kModelJsonFile = "model.json";

// Writes both files atomically (each via a temporary file and a rename). `extra` keys (e.g.
// "structure", "source") are added to model.json next to "config".
void save_model_dir(const std::string& dir, VisionTransformerImpl& model,
                    const nlohmann::json& extra = nlohmann::json::object());

struct LoadedModel {
  VisionTransformer model{nullptr};
  nlohmann::json model_json;  // the whole model.json, for callers that need more than the config
  std::string source;         // the directory, or "config <name> (seed S)"
};

// The "family" of a model.json: "vit" where it has none (every transformer family), else its value
// (e.g. "resnet", model/families/resnet/resnet_model_dir.h); a non-string is refused naming `where`.
inline constexpr const char* kTransformerFamily = "vit";
std::string model_family(const nlohmann::json& model_json, const std::string& where);

// Reads `dir`'s model.json after checking that model.json and model.safetensors exist: a JSON
// object with "config", of family `family`; another family is refused naming it and saying what
// the command works on (`works_on`, e.g. "Vision Transformers (ViT, DeiT, ...)").
nlohmann::json read_model_json(const std::string& dir, const std::string& family,
                               const std::string& works_on);

// Loads a model directory; errors name the file and what is wrong with it. A compressed model's
// "structure" is validated against its "source_config" and its config (model/structure.h).
LoadedModel load_model_dir(const std::string& dir);

// A model named by the user: an existing directory with a model.json, or a named config
// (fresh weights from `seed`), or a timm/DeiT checkpoint file or hub folder (model/timm_import.h).
// Anything else is an error that lists the valid config names.
LoadedModel load_model_spec(const std::string& name_or_dir, uint64_t seed);

// Throws the error load_model_spec gives when `name_or_dir` is neither a directory nor a config.
void check_model_spec(const std::string& name_or_dir);

}  // namespace vitc
