// ViTConfig: geometry queries, validation and JSON (named configs: named_configs.cpp).
#include "model/config.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "model/token_list.h"
#include "util/error.h"
#include "util/input_stats.h"
#include "util/json_read.h"

namespace vitc {

int BlockSpec::qk_total() const {
  int total = 0;
  for (const auto& h : heads) total += h.qk_dim;
  return total;
}

int BlockSpec::v_total() const {
  int total = 0;
  for (const auto& h : heads) total += h.v_dim;
  return total;
}

bool BlockSpec::operator==(const BlockSpec& o) const {
  return skip == o.skip && attn_skip == o.attn_skip && heads == o.heads &&
         mlp_hidden == o.mlp_hidden && attn_scale == o.attn_scale && tokens == o.tokens;
}

std::vector<int> T2TStemSpec::map_sides(int img_size) const {
  std::vector<int> sides;
  int side = img_size;
  for (const SoftSplit& s : splits) {
    side = s.stride > 0 ? (side + 2 * s.padding - s.kernel) / s.stride + 1 : 0;
    sides.push_back(side);
  }
  return sides;
}

int ViTConfig::num_patches() const {
  if (is_swin()) return stage_side(0) * stage_side(0);
  if (is_t2t()) {
    const std::vector<int> sides = t2t.map_sides(img_size);
    return sides.empty() ? 0 : sides.back() * sides.back();
  }
  const int side = img_size / patch_size;
  return side * side;
}

int ViTConfig::stage_of(int i) const {
  int end = 0;
  for (size_t s = 0; s < swin.depths.size(); ++s) {
    end += swin.depths[s];
    if (i < end) return static_cast<int>(s);
  }
  return 0;
}

int ViTConfig::stage_first_block(int s) const {
  int first = 0;
  for (int t = 0; t < s && t < static_cast<int>(swin.depths.size()); ++t) first += swin.depths[t];
  return first;
}

int ViTConfig::stage_side(int s) const { return (img_size / patch_size) >> s; }

int ViTConfig::block_dim(int i) const { return is_swin() ? embed_dim << stage_of(i) : embed_dim; }

AttentionWindow ViTConfig::block_window(int i) const {
  if (!is_swin()) return {};
  const int s = stage_of(i);
  AttentionWindow w;
  w.side = stage_side(s);
  if (w.side <= swin.window_size) {  // one window of the whole grid, nothing to shift
    w.window = w.side;
    return w;
  }
  w.window = swin.window_size;
  w.shift = (i - stage_first_block(s)) % 2 == 1 ? swin.window_size / 2 : 0;
  return w;
}

int ViTConfig::block_keys(int i) const {
  const AttentionWindow w = block_window(i);
  return w.windowed() ? w.window * w.window : block_tokens(i);
}

namespace {

// The token list in force at block i (the last one listed at or before it); null: every patch.
const std::vector<int>* listed_tokens(const std::vector<BlockSpec>& blocks, int i) {
  for (int b = i; b >= 0; --b) {
    if (!blocks[static_cast<size_t>(b)].tokens.empty()) return &blocks[static_cast<size_t>(b)].tokens;
  }
  return nullptr;
}

}  // namespace

std::vector<int> ViTConfig::block_patches(int i) const {
  if (const std::vector<int>* kept = listed_tokens(blocks, i)) return *kept;
  std::vector<int> all(static_cast<size_t>(num_patches()));
  for (int p = 0; p < num_patches(); ++p) all[static_cast<size_t>(p)] = p;
  return all;
}

int ViTConfig::block_tokens(int i) const {
  if (is_swin()) return stage_side(stage_of(i)) * stage_side(stage_of(i));
  const std::vector<int>* kept = listed_tokens(blocks, i);
  return kept != nullptr ? static_cast<int>(kept->size()) + num_prefix_tokens() : num_tokens();
}

bool ViTConfig::drops_tokens() const {
  for (const BlockSpec& b : blocks) {
    if (!b.tokens.empty()) return true;
  }
  return false;
}

void check_keeps_every_token(const ViTConfig& config, const std::string& what) {
  for (int i = 0; i < config.depth(); ++i) {
    check(config.blocks[static_cast<size_t>(i)].tokens.empty(), what, " needs a model that keeps every token, but model '",
          config.name, "' drops tokens from block ", i, " on (", config.block_tokens(i), " of ",
          config.num_tokens(), " tokens kept)");
  }
}

bool ViTConfig::operator==(const ViTConfig& o) const {
  return name == o.name && img_size == o.img_size && patch_size == o.patch_size &&
         in_chans == o.in_chans && num_classes == o.num_classes && embed_dim == o.embed_dim &&
         distilled == o.distilled && qkv_bias == o.qkv_bias && layer_scale == o.layer_scale &&
         no_embed_class == o.no_embed_class && stem == o.stem &&
         (!is_t2t() || t2t == o.t2t) && swin == o.swin && norm_eps == o.norm_eps &&
         mean == o.mean && std == o.std && blocks == o.blocks;
}

namespace {

// T2T-ViT's stem: known attention, sane splits, a map of at least one token after each split,
// and patch_size equal to the product of the strides (what the model's total stride is).
void validate_t2t_stem(const ViTConfig& c, const std::string& who) {
  const T2TStemSpec& t = c.t2t;
  check(t.attention == "performer" || t.attention == "transformer", who,
        "t2t.attention must be \"performer\" or \"transformer\", got \"", t.attention, "\"");
  check(t.token_dim >= 2 && t.token_dim <= kMaxWidth, who, "t2t.token_dim must be in [2, ",
        kMaxWidth, "], got ", t.token_dim);
  check(t.splits.size() >= 2 && t.splits.size() <= 8, who,
        "t2t.splits must hold 2 to 8 soft splits, got ", t.splits.size());
  int64_t stride = 1;
  for (size_t i = 0; i < t.splits.size(); ++i) {
    const SoftSplit& s = t.splits[i];
    check(s.kernel >= 1 && s.kernel <= 64 && s.stride >= 1 && s.stride <= 64 && s.padding >= 0 &&
              s.padding < s.kernel,
          who, "t2t.splits[", i, "] needs kernel and stride in [1, 64] and padding in [0, kernel), "
          "got kernel ", s.kernel, ", stride ", s.stride, ", padding ", s.padding);
    stride *= s.stride;
  }
  const std::vector<int> sides = t.map_sides(c.img_size);
  for (size_t i = 0; i < sides.size(); ++i) {
    check(sides[i] >= 1, who, "t2t.splits[", i, "] leaves no token of a ", c.img_size,
          "-pixel image");
  }
  check(c.patch_size == stride, who, "patch_size must be the product of the t2t strides (",
        stride, ") for the t2t stem, got ", c.patch_size);
}

// Swin: stages that add up to the blocks, a grid that halves evenly into every stage and is
// tiled by its windows, and none of the ViT-only options (they have no place in a Swin).
void validate_swin(const ViTConfig& c, const std::string& who) {
  const SwinSpec& s = c.swin;
  check(c.stem == "patch", who, "a Swin config needs stem \"patch\", got \"", c.stem, "\"");
  check(!c.distilled && !c.no_embed_class && !c.layer_scale, who,
        "distilled, no_embed_class and layer_scale are ViT options a Swin config cannot have");
  check(s.window_size >= 1 && s.window_size <= 64, who, "swin.window_size must be in [1, 64], got ",
        s.window_size);
  check(s.depths.size() <= 8, who, "swin.depths may hold at most 8 stages, got ", s.depths.size());
  int total = 0;
  for (size_t t = 0; t < s.depths.size(); ++t) {
    check(s.depths[t] >= 1 && s.depths[t] <= kMaxDepth, who, "swin.depths[", t,
          "] must be in [1, ", kMaxDepth, "], got ", s.depths[t]);
    total += s.depths[t];
  }
  check(total == c.depth(), who, "swin.depths add up to ", total, " blocks but the config has ",
        c.depth());
  const int side = c.img_size / c.patch_size;
  const int stages = static_cast<int>(s.depths.size());
  check(side % (1 << (stages - 1)) == 0, who, "the ", side, "x", side,
        " token grid cannot be halved by patch merging into ", stages, " stages (img_size ",
        c.img_size, " / patch_size ", c.patch_size, " must be divisible by ", 1 << (stages - 1),
        ")");
  check(int64_t{c.embed_dim} << (stages - 1) <= kMaxWidth, who, "embed_dim ", c.embed_dim,
        " doubles to more than ", kMaxWidth, " over ", stages, " stages");
  for (int t = 0; t < stages; ++t) {
    const AttentionWindow w = c.block_window(c.stage_first_block(t));
    check(w.side % w.window == 0, who, "stage ", t, "'s ", w.side, "x", w.side,
          " token grid is not tiled by ", w.window, "x", w.window, " windows (swin.window_size)");
  }
  for (size_t i = 0; i < c.blocks.size(); ++i) {
    check(c.blocks[i].tokens.empty(), who, "blocks[", i,
          "].tokens: a Swin keeps every token of its window grid (token pruning is for ViTs)");
  }
}

}  // namespace

void ViTConfig::validate() const {
  const std::string who = str_cat("config '", name, "': ");
  check(img_size > 0 && patch_size > 0 && img_size <= kMaxImgSize && img_size % patch_size == 0,
        who, "img_size must be a positive multiple of patch_size and at most ", kMaxImgSize,
        ", got img_size=", img_size, " patch_size=", patch_size);
  check(num_patches() <= kMaxPatches, who, "img_size ", img_size, " / patch_size ", patch_size,
        " gives ", num_patches(), " patches, more than the supported ", kMaxPatches);
  if (is_t2t()) validate_t2t_stem(*this, who);
  check(stem == "patch" || is_t2t(), who, "stem must be \"patch\" or \"t2t\", got \"", stem,
        "\"");
  check(in_chans > 0 && in_chans <= kMaxInChans, who, "in_chans must be in [1, ", kMaxInChans,
        "], got ", in_chans);
  check(num_classes > 0 && num_classes <= kMaxClasses, who, "num_classes must be in [1, ",
        kMaxClasses, "], got ", num_classes);
  check(embed_dim > 0 && embed_dim <= kMaxWidth, who, "embed_dim must be in [1, ", kMaxWidth,
        "], got ", embed_dim);
  check(std::isfinite(norm_eps) && norm_eps > 0, who, "norm_eps must be positive, got ", norm_eps);
  check_input_stats(mean, std, in_chans, who);
  check(!blocks.empty() && depth() <= kMaxDepth, who, "blocks must hold 1 to ", kMaxDepth,
        " blocks, got ", blocks.size());
  std::vector<bool> alive(static_cast<size_t>(num_patches()), true);  // positions reaching block i
  for (size_t i = 0; i < blocks.size(); ++i) {
    const BlockSpec& b = blocks[i];
    const std::string where = str_cat(who, "blocks[", i, "].");
    if (!b.tokens.empty()) alive = check_token_list(b.tokens, alive, where + "tokens");
    check(b.mlp_hidden >= 0 && b.mlp_hidden <= kMaxMlpHidden, where, "mlp_hidden must be in [0, ",
          kMaxMlpHidden, "], got ", b.mlp_hidden);
    if (b.skip) continue;
    if (b.attn_skip) {
      check(b.heads.empty(), where, "heads must be empty when attn_skip is true, got ",
            b.heads.size(), " heads");
    } else {
      check(!b.heads.empty(), where,
            "heads must not be empty unless attn_skip is true (use attn_skip to remove attention)");
      check(std::isfinite(b.attn_scale) && b.attn_scale > 0, where,
            "attn_scale must be positive, got ", b.attn_scale);
      check(b.heads.size() <= static_cast<size_t>(kMaxHeads), where, "at most ", kMaxHeads,
            " heads are supported, got ", b.heads.size());
      for (size_t h = 0; h < b.heads.size(); ++h) {
        const HeadSpec& head = b.heads[h];
        check(head.qk_dim > 0 && head.v_dim > 0 && head.qk_dim <= kMaxWidth &&
                  head.v_dim <= kMaxWidth,
              where, "heads[", h, "] needs qk_dim and v_dim in [1, ", kMaxWidth,
              "], got qk_dim=", head.qk_dim, " v_dim=", head.v_dim);
      }
      check(static_cast<int64_t>(b.qk_total()) + b.v_total() <= 2 * int64_t{kMaxWidth}, where,
            "the heads' q/k and v widths add up to ", int64_t{b.qk_total()} + b.v_total(),
            ", more than the supported ", 2 * int64_t{kMaxWidth});
    }
  }
  if (is_swin()) validate_swin(*this, who);
}

// ---- JSON -----------------------------------------------------------------------------------

nlohmann::json config_to_json(const ViTConfig& c) {
  nlohmann::json blocks = nlohmann::json::array();
  for (const auto& b : c.blocks) {
    nlohmann::json heads = nlohmann::json::array();
    for (const auto& h : b.heads) heads.push_back({{"qk_dim", h.qk_dim}, {"v_dim", h.v_dim}});
    nlohmann::json block = {{"skip", b.skip},
                            {"attn_skip", b.attn_skip},
                            {"heads", heads},
                            {"mlp_hidden", b.mlp_hidden},
                            {"attn_scale", b.attn_scale}};
    if (!b.tokens.empty()) block["tokens"] = b.tokens;  // absent: no token dropped here
    blocks.push_back(block);
  }
  nlohmann::json j = {{"name", c.name},         {"img_size", c.img_size},
                      {"patch_size", c.patch_size}, {"in_chans", c.in_chans},
                      {"num_classes", c.num_classes}, {"embed_dim", c.embed_dim},
                      {"distilled", c.distilled}, {"qkv_bias", c.qkv_bias},
                      {"norm_eps", c.norm_eps},   {"mean", c.mean},
                      {"std", c.std},             {"blocks", blocks}};
  // Written only when set, so the model.json of a plain ViT stays as it was.
  if (c.layer_scale) j["layer_scale"] = true;
  if (c.no_embed_class) j["no_embed_class"] = true;
  if (c.is_t2t()) {
    nlohmann::json splits = nlohmann::json::array();
    for (const SoftSplit& s : c.t2t.splits) {
      splits.push_back({{"kernel", s.kernel}, {"stride", s.stride}, {"padding", s.padding}});
    }
    j["stem"] = c.stem;
    j["t2t"] = {{"attention", c.t2t.attention}, {"token_dim", c.t2t.token_dim}, {"splits", splits}};
  }
  if (c.is_swin()) j["swin"] = {{"window_size", c.swin.window_size}, {"depths", c.swin.depths}};
  return j;
}

ViTConfig config_from_json(const nlohmann::json& j, const std::string& where,
                           const std::string& path) {
  const JsonFields f(j, where, path);
  ViTConfig c;
  c.name = f.string("name");
  c.img_size = f.integer32("img_size", 1, kMaxImgSize);
  c.patch_size = f.integer32("patch_size", 1, kMaxImgSize);
  c.in_chans = f.integer32("in_chans", 1, kMaxInChans);
  c.num_classes = f.integer32("num_classes", 1, kMaxClasses);
  c.embed_dim = f.integer32("embed_dim", 1, kMaxWidth);
  c.distilled = f.boolean("distilled");
  c.qkv_bias = f.boolean("qkv_bias");
  if (f.has("layer_scale")) c.layer_scale = f.boolean("layer_scale");
  if (f.has("no_embed_class")) c.no_embed_class = f.boolean("no_embed_class");
  if (f.has("stem")) c.stem = f.string("stem");
  if (c.is_t2t()) {
    const JsonFields ft(f.at("t2t"), where, path + "t2t.");
    c.t2t.attention = ft.string("attention");
    c.t2t.token_dim = ft.integer32("token_dim", 2, kMaxWidth);
    const nlohmann::json& splits = ft.array("splits", 8);
    c.t2t.splits.clear();
    for (size_t i = 0; i < splits.size(); ++i) {
      const JsonFields fs(splits[i], where, str_cat(path, "t2t.splits[", i, "]."));
      c.t2t.splits.push_back(SoftSplit{fs.integer32("kernel", 1, 64), fs.integer32("stride", 1, 64),
                                       fs.integer32("padding", 0, 63)});
    }
  }
  if (f.has("swin")) {
    const JsonFields fs(f.at("swin"), where, path + "swin.");
    c.swin.window_size = fs.integer32("window_size", 1, 64);
    c.swin.depths = fs.integers("depths", 1, kMaxDepth, 8);
    check(!c.swin.depths.empty(), where, ": ", path, "swin.depths must list at least one stage");
  }
  c.norm_eps = f.number("norm_eps");
  c.mean = f.numbers("mean", kMaxInChans);
  c.std = f.numbers("std", kMaxInChans);
  const nlohmann::json& blocks = f.array("blocks", kMaxDepth);
  for (size_t i = 0; i < blocks.size(); ++i) {
    const JsonFields fb(blocks[i], where, str_cat(path, "blocks[", i, "]."));
    BlockSpec b;
    b.skip = fb.boolean("skip");
    b.attn_skip = fb.boolean("attn_skip");
    b.mlp_hidden = fb.integer32("mlp_hidden", 0, kMaxMlpHidden);
    b.attn_scale = fb.number("attn_scale");
    if (fb.has("tokens")) b.tokens = fb.integers("tokens", -kMaxPatches, kMaxPatches, kMaxPatches);
    const nlohmann::json& heads = fb.array("heads", kMaxHeads);
    for (size_t h = 0; h < heads.size(); ++h) {
      const JsonFields fh(heads[h], where, str_cat(path, "blocks[", i, "].heads[", h, "]."));
      b.heads.push_back(HeadSpec{fh.integer32("qk_dim", 1, kMaxWidth),
                                 fh.integer32("v_dim", 1, kMaxWidth)});
    }
    c.blocks.push_back(b);
  }
  try {
    c.validate();
  } catch (const Error& e) {
    fail(where, ": ", e.what());
  }
  return c;
}

}  // namespace vitc
