// Saving and loading ViT-Slim search directories.
#include "compress/slim/search_dir.h"

#include <filesystem>

#include "model/model_dir.h"
#include "util/error.h"
#include "util/files.h"

namespace vitc {

void save_search_dir(const std::string& dir, VisionTransformerImpl& model, const SlimMasks& masks,
                     const nlohmann::json& info) {
  make_dirs(dir);
  save_model_dir(dir, model, {{"searched_by", "vitc slim search"}});
  write_safetensors(dir + "/" + kSlimMasksFile, slim_masks_to_tensors(masks),
                    {{"format", "vitc-slim-masks"}});
  nlohmann::json meta = info;
  meta["format"] = "vitc-slim-search";
  meta["version"] = 1;
  write_json(dir + "/" + kSearchJsonFile, meta);
}

SearchDir load_search_dir(const std::string& dir, bool require_complete) {
  check(std::filesystem::is_directory(dir), "search directory '", dir,
        "' does not exist (run `vitc slim search --out ", dir, "` first)");
  const std::string json_path = dir + "/" + kSearchJsonFile;
  check(file_exists(json_path), "'", dir, "' is not a ViT-Slim search directory: it has no ",
        kSearchJsonFile);
  SearchDir s;
  s.dir = dir;
  s.info = read_json(json_path);
  check(s.info.is_object() && s.info.value("format", "") == "vitc-slim-search", "'", json_path,
        "' is not a ViT-Slim search record (expected \"format\": \"vitc-slim-search\")");
  check(!require_complete || s.info.value("complete", false), "'", dir,
        "' holds an unfinished search (", s.info.value("epochs_done", 0), " of ",
        s.info.value("options", nlohmann::json::object()).value("epochs", 0),
        " epochs): continue it with `vitc slim search --resume` and the same settings");
  s.model = load_model_dir(dir).model;
  const std::string masks_path = dir + "/" + kSlimMasksFile;
  check(file_exists(masks_path), "search directory '", dir, "' has no ", kSlimMasksFile);
  s.masks =
      slim_masks_from_tensors(read_safetensors(masks_path).tensors, s.model->config(), masks_path);
  return s;
}

}  // namespace vitc
