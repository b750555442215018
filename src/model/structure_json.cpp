// Structure <-> JSON, and the checks that tie a compressed model.json's structure to its weights.
#include <nlohmann/json.hpp>

#include "model/structure.h"
#include "util/error.h"

namespace vitc {

nlohmann::json structure_to_json(const Structure& structure) {
  nlohmann::json blocks = nlohmann::json::array();
  for (const BlockKeep& b : structure.blocks) {
    nlohmann::json heads = nlohmann::json::array();
    for (const HeadKeep& h : b.heads) {
      heads.push_back({{"source", h.source}, {"qk", h.qk}, {"v", h.v}});
    }
    blocks.push_back({{"skip", b.skip}, {"attn_skip", b.attn_skip}, {"heads", heads},
                      {"mlp", b.mlp}});
  }
  return {{"version", 1}, {"blocks", blocks}};
}

namespace {

// Key `key` of object `j` as T; errors name the file and the JSON path of the key.
template <typename T>
T field(const nlohmann::json& j, const std::string& key, const std::string& path,
        const std::string& where) {
  check(j.is_object(), where, ": structure.", path, " must be a JSON object, got ", j.dump());
  auto it = j.find(key);
  check(it != j.end(), where, ": missing key 'structure.", path, key, "'");
  try {
    return it->template get<T>();
  } catch (const nlohmann::json::exception&) {
    fail(where, ": key 'structure.", path, key, "' has the wrong type (value ", it->dump(), ")");
  }
}

}  // namespace

Structure structure_from_json(const nlohmann::json& j, const std::string& where) {
  const int version = field<int>(j, "version", "", where);
  check(version == 1, where, ": structure.version ", version, " is not supported (expected 1)");
  const auto blocks = field<nlohmann::json>(j, "blocks", "", where);
  check(blocks.is_array(), where, ": key 'structure.blocks' must be an array");
  Structure s;
  for (size_t i = 0; i < blocks.size(); ++i) {
    const std::string path = str_cat("blocks[", i, "].");
    BlockKeep b;
    b.skip = field<bool>(blocks[i], "skip", path, where);
    b.attn_skip = field<bool>(blocks[i], "attn_skip", path, where);
    b.mlp = field<std::vector<int>>(blocks[i], "mlp", path, where);
    const auto heads = field<nlohmann::json>(blocks[i], "heads", path, where);
    check(heads.is_array(), where, ": key 'structure.", path, "heads' must be an array");
    for (size_t h = 0; h < heads.size(); ++h) {
      const std::string hpath = str_cat(path, "heads[", h, "].");
      b.heads.push_back(HeadKeep{field<int>(heads[h], "source", hpath, where),
                                 field<std::vector<int>>(heads[h], "qk", hpath, where),
                                 field<std::vector<int>>(heads[h], "v", hpath, where)});
    }
    s.blocks.push_back(std::move(b));
  }
  return s;
}

std::optional<CompressedInfo> read_compressed_info(const nlohmann::json& model_json,
                                                   const ViTConfig& config,
                                                   const std::string& where) {
  const bool has_structure = model_json.contains("structure");
  const bool has_source = model_json.contains("source_config");
  if (!has_structure && !has_source) return std::nullopt;
  check(has_structure && has_source, where, ": has \"",
        has_structure ? "structure" : "source_config", "\" but no \"",
        has_structure ? "source_config" : "structure", "\"; a compressed model needs both");
  CompressedInfo info;
  info.source = config_from_json(model_json["source_config"], where + " (source_config)");
  info.structure = structure_from_json(model_json["structure"], where);
  try {
    validate_structure(info.structure, info.source);
  } catch (const Error& e) {
    fail(where, ": ", e.what());
  }
  const ViTConfig expected = compact_config(info.source, info.structure);
  check(expected.depth() == config.depth(), where, ": config has ", config.depth(),
        " blocks but the structure has ", expected.depth());
  for (int i = 0; i < config.depth(); ++i) {
    const BlockSpec& want = expected.blocks[i];
    const BlockSpec& got = config.blocks[i];
    check(want == got, where, ": config.blocks[", i, "] does not match structure.blocks[", i,
          "]: the structure keeps ", want.heads.size(), " heads (qk ", want.qk_total(), ", v ",
          want.v_total(), ") and ", want.mlp_hidden, " MLP neurons", want.skip ? " (skipped)" : "",
          ", the config has ", got.heads.size(), " heads (qk ", got.qk_total(), ", v ",
          got.v_total(), ") and ", got.mlp_hidden, " MLP neurons", got.skip ? " (skipped)" : "");
  }
  ViTConfig rest = config;  // what remains when names and blocks agree
  rest.name = expected.name;
  rest.blocks = expected.blocks;
  check(rest == expected, where, ": config and source_config differ outside the blocks "
        "(image/patch size, channels, classes, embed_dim, distillation, qkv_bias, norm or "
        "input statistics)");
  return info;
}

}  // namespace vitc
