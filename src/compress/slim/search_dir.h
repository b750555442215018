// A ViT-Slim search directory: what extraction needs, so that it never searches again.
//   model.safetensors + model.json   the searched (dense) weights, a model directory
//   masks.safetensors                the soft masks (slim_masks.h)
//   search.json                      settings, teacher, per-epoch history, "complete"
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "compress/slim/slim_masks.h"
#include "model/vit.h"

namespace vitc {

inline constexpr const char* kSlimMasksFile = "masks.safetensors";
inline constexpr const char* kSearchJsonFile = "search.json";

struct SearchDir {
  std::string dir;
  VisionTransformer model{nullptr};  // searched weights
  SlimMasks masks;
  nlohmann::json info;  // search.json
};

// Writes the three parts, each atomically; search.json last, so a directory whose search.json
// exists has its weights and masks.
void save_search_dir(const std::string& dir, VisionTransformerImpl& model, const SlimMasks& masks,
                     const nlohmann::json& info);

// Reads and checks a search directory; errors name the file and what is wrong (a missing
// directory or file, masks that do not fit the weights, a search.json of another format).
// `require_complete` refuses an interrupted search (resume it first).
SearchDir load_search_dir(const std::string& dir, bool require_complete = true);

}  // namespace vitc
