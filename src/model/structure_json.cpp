// Structure <-> JSON, and the checks that tie a compressed model.json's structure to its weights.
#include <cstdint>

#include <nlohmann/json.hpp>

#include "model/structure.h"
#include "util/error.h"
#include "util/json_read.h"

namespace vitc {

nlohmann::json structure_to_json(const Structure& structure) {
  nlohmann::json blocks = nlohmann::json::array();
  for (const BlockKeep& b : structure.blocks) {
    nlohmann::json heads = nlohmann::json::array();
    for (const HeadKeep& h : b.heads) {
      heads.push_back({{"source", h.source}, {"qk", h.qk}, {"v", h.v}});
    }
    nlohmann::json block = {{"skip", b.skip}, {"attn_skip", b.attn_skip}, {"heads", heads},
                            {"mlp", b.mlp}};
    if (!b.tokens.empty()) block["tokens"] = b.tokens;  // absent: no token dropped here
    blocks.push_back(block);
  }
  return {{"version", 1}, {"blocks", blocks}};
}

Structure structure_from_json(const nlohmann::json& j, const std::string& where) {
  const JsonFields f(j, where, "structure.");
  const int64_t version = f.integer("version", 0, INT32_MAX);
  check(version == 1, where, ": structure.version ", version, " is not supported (expected 1)");
  const nlohmann::json& blocks = f.array("blocks", kMaxDepth);
  Structure s;
  for (size_t i = 0; i < blocks.size(); ++i) {
    const std::string path = str_cat("structure.blocks[", i, "].");
    const JsonFields fb(blocks[i], where, path);
    BlockKeep b;
    b.skip = fb.boolean("skip");
    b.attn_skip = fb.boolean("attn_skip");
    b.mlp = fb.integers("mlp", 0, kMaxMlpHidden - 1, kMaxMlpHidden);
    if (fb.has("tokens")) b.tokens = fb.integers("tokens", -kMaxPatches, kMaxPatches, kMaxPatches);
    const nlohmann::json& heads = fb.array("heads", kMaxHeads);
    for (size_t h = 0; h < heads.size(); ++h) {
      const JsonFields fh(heads[h], where, str_cat(path, "heads[", h, "]."));
      b.heads.push_back(HeadKeep{fh.integer32("source", 0, kMaxHeads - 1),
                                 fh.integers("qk", 0, kMaxWidth - 1, kMaxWidth),
                                 fh.integers("v", 0, kMaxWidth - 1, kMaxWidth)});
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
  info.source = config_from_json(model_json["source_config"], where, "source_config.");
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
          want.tokens.empty() ? "" : str_cat(", ", want.tokens.size(), " patch tokens"),
          ", the config has ", got.heads.size(), " heads (qk ", got.qk_total(), ", v ",
          got.v_total(), ") and ", got.mlp_hidden, " MLP neurons", got.skip ? " (skipped)" : "",
          got.tokens.empty() ? "" : str_cat(", ", got.tokens.size(), " patch tokens"));
  }
  ViTConfig rest = config;  // what remains when names and blocks agree
  rest.name = expected.name;
  rest.blocks = expected.blocks;
  check(rest == expected, where, ": config and source_config differ outside the blocks "
        "(image/patch size, channels, classes, embed_dim, distillation, qkv_bias, norm or "
        "input statistics)");
  return info;
}

nlohmann::json structure_summary(const Structure& structure) {
  nlohmann::json blocks = nlohmann::json::array();
  for (const BlockKeep& b : structure.blocks) {
    if (b.skip) {
      nlohmann::json block = {{"skipped", true}};
      if (!b.tokens.empty()) block["tokens"] = b.tokens.size();
      blocks.push_back(block);
      continue;
    }
    nlohmann::json heads = nlohmann::json::array(), widths = nlohmann::json::array();
    for (const HeadKeep& h : b.heads) {
      heads.push_back(h.source);
      widths.push_back(h.v.size());
    }
    nlohmann::json block = {{"skipped", false},
                            {"heads", heads},
                            {"v_dims", widths},
                            {"mlp", b.mlp.size()}};
    if (!b.tokens.empty()) block["tokens"] = b.tokens.size();  // patch tokens kept from here on
    blocks.push_back(block);
  }
  return blocks;
}

}  // namespace vitc
