// Structure: dense structure, validation against a source config, normalisation, compact config.
#include "model/structure.h"

#include <algorithm>
#include <map>
#include <utility>

#include "model/token_list.h"
#include "util/error.h"

namespace vitc {

bool BlockKeep::operator==(const BlockKeep& o) const {
  return skip == o.skip && attn_skip == o.attn_skip && heads == o.heads && mlp == o.mlp &&
         tokens == o.tokens;
}

namespace {

std::vector<int> iota_vector(int n) {
  std::vector<int> v(n);
  for (int i = 0; i < n; ++i) v[i] = i;
  return v;
}

// Indices in [0, size) without duplicates; `field` is the full path for the message.
void check_indices(const std::vector<int>& indices, int size, const std::string& who,
                   const std::string& field) {
  std::vector<bool> seen(size, false);
  for (int index : indices) {
    check(index >= 0 && index < size, who, field, ": index ", index, " out of range [0, ", size,
          ")");
    check(!seen[index], who, field, ": index ", index, " appears more than once");
    seen[index] = true;
  }
}

void validate_block(const BlockKeep& b, const BlockSpec& src, const std::string& who,
                    const std::string& path) {
  if (b.skip) {
    check(b.heads.empty(), who, path, "heads: must be empty when skip is true, got ",
          b.heads.size(), " heads");
    check(b.mlp.empty(), who, path, "mlp: must be empty when skip is true, got ", b.mlp.size(),
          " neurons");
    return;
  }
  check(!src.skip, who, path, "skip: the source block is skipped (it has no weights), so the "
        "structure must skip it too");
  if (b.attn_skip) {
    check(b.heads.empty(), who, path, "heads: must be empty when attn_skip is true, got ",
          b.heads.size(), " heads");
  } else {
    check(src.has_attention(), who, path,
          "attn_skip: the source block has no attention branch, so attn_skip must be true");
    check(!b.heads.empty(), who, path,
          "heads: a kept attention needs at least one head (set attn_skip to remove attention)");
    std::vector<bool> used(src.heads.size(), false);
    const int num_heads = static_cast<int>(src.heads.size());
    for (size_t h = 0; h < b.heads.size(); ++h) {
      const HeadKeep& head = b.heads[h];
      const std::string hpath = str_cat(path, "heads[", h, "].");
      check(head.source >= 0 && head.source < num_heads, who, hpath, "source: head ", head.source,
            " out of range [0, ", num_heads, ")");
      check(!used[head.source], who, hpath, "source: head ", head.source,
            " is kept more than once");
      used[head.source] = true;
      const HeadSpec& spec = src.heads[head.source];
      check(!head.qk.empty(), who, hpath,
            "qk: a kept head needs at least one q/k dim (drop the head instead)");
      check(!head.v.empty(), who, hpath,
            "v: a kept head needs at least one v dim (drop the head instead)");
      check_indices(head.qk, spec.qk_dim, who, hpath + "qk");
      check_indices(head.v, spec.v_dim, who, hpath + "v");
    }
  }
  check_indices(b.mlp, src.has_mlp() ? src.mlp_hidden : 0, who, path + "mlp");
  check(!b.attn_skip || !b.mlp.empty(), who, path,
        "mlp: empty while attn_skip is true, so the block keeps nothing; set skip to true "
        "(normalize_structure does this)");
}

}  // namespace

Structure dense_structure(const ViTConfig& source) {
  Structure s;
  for (const BlockSpec& src : source.blocks) {
    BlockKeep b;
    b.skip = src.skip;
    if (!src.skip) {
      b.attn_skip = src.attn_skip;
      if (src.has_attention()) {
        for (size_t h = 0; h < src.heads.size(); ++h) {
          b.heads.push_back(HeadKeep{static_cast<int>(h), iota_vector(src.heads[h].qk_dim),
                                     iota_vector(src.heads[h].v_dim)});
        }
      }
      if (src.has_mlp()) b.mlp = iota_vector(src.mlp_hidden);
    }
    b.tokens = src.tokens;
    s.blocks.push_back(std::move(b));
  }
  return s;
}

namespace {

// Token lists: each strictly increasing, within the patches still alive (nested), and within
// what the source model itself processes at that block.
void validate_tokens(const Structure& structure, const ViTConfig& source, const std::string& who) {
  const int patches = source.num_patches();
  std::vector<bool> alive(static_cast<size_t>(patches), true);
  for (size_t i = 0; i < structure.blocks.size(); ++i) {
    const std::vector<int>& kept = structure.blocks[i].tokens;
    const std::string path = str_cat("blocks[", i, "].tokens");
    if (!kept.empty()) alive = check_token_list(kept, alive, who + path);
    std::vector<bool> source_alive(alive.size(), false);
    for (int p : source.block_patches(static_cast<int>(i))) source_alive[static_cast<size_t>(p)] = true;
    for (int p = 0; p < patches; ++p) {
      check(!alive[static_cast<size_t>(p)] || source_alive[static_cast<size_t>(p)], who, path,
            ": block ", i, " keeps patch position ", p,
            ", which the source model has dropped by then (list the source's tokens)");
    }
  }
}

}  // namespace

void validate_structure(const Structure& structure, const ViTConfig& source) {
  const std::string who = str_cat("structure for model '", source.name, "': ");
  check(structure.blocks.size() == source.blocks.size(), who, "blocks: has ",
        structure.blocks.size(), " blocks but the model has ", source.blocks.size());
  for (size_t i = 0; i < structure.blocks.size(); ++i) {
    validate_block(structure.blocks[i], source.blocks[i], who, str_cat("blocks[", i, "]."));
  }
  validate_tokens(structure, source, who);
}

std::vector<int> structure_patches(const Structure& structure, const ViTConfig& source,
                                   int block) {
  for (int b = block; b >= 0; --b) {
    const std::vector<int>& kept = structure.blocks.at(static_cast<size_t>(b)).tokens;
    if (!kept.empty()) return kept;
  }
  return iota_vector(source.num_patches());
}

Structure normalize_structure(Structure structure) {
  for (BlockKeep& b : structure.blocks) {
    if (!b.skip && b.heads.empty()) b.attn_skip = true;
    if (!b.skip && b.attn_skip && b.mlp.empty()) b.skip = true;
    if (b.skip) {
      b.attn_skip = false;
      b.mlp.clear();
    }
    if (b.skip || b.attn_skip) b.heads.clear();
  }
  return structure;
}

std::vector<int> head_compute_order(const BlockKeep& block) {
  // Groups in order of first appearance; heads keep their relative order within a group.
  std::vector<std::pair<size_t, size_t>> widths;
  std::vector<std::vector<int>> groups;
  for (size_t h = 0; h < block.heads.size(); ++h) {
    const std::pair<size_t, size_t> w(block.heads[h].qk.size(), block.heads[h].v.size());
    auto it = std::find(widths.begin(), widths.end(), w);
    if (it == widths.end()) {
      widths.push_back(w);
      groups.push_back({static_cast<int>(h)});
    } else {
      groups[it - widths.begin()].push_back(static_cast<int>(h));
    }
  }
  std::vector<int> order;
  for (const auto& g : groups) order.insert(order.end(), g.begin(), g.end());
  return order;
}

ViTConfig compact_config(const ViTConfig& source, const Structure& structure) {
  validate_structure(structure, source);
  ViTConfig c = source;
  const std::string suffix = "_compact";
  const bool has_suffix = c.name.size() >= suffix.size() &&
                          c.name.compare(c.name.size() - suffix.size(), suffix.size(), suffix) == 0;
  if (!has_suffix) c.name += suffix;
  for (size_t i = 0; i < structure.blocks.size(); ++i) {
    const BlockKeep& b = structure.blocks[i];
    BlockSpec spec;
    spec.skip = b.skip;
    spec.attn_skip = !b.skip && b.attn_skip;
    spec.attn_scale = source.blocks[i].attn_scale;
    spec.mlp_hidden = static_cast<int>(b.mlp.size());
    spec.tokens = b.tokens;
    for (int h : head_compute_order(b)) {
      spec.heads.push_back(HeadSpec{static_cast<int>(b.heads[h].qk.size()),
                                    static_cast<int>(b.heads[h].v.size())});
    }
    c.blocks[i] = spec;
  }
  c.validate();
  return c;
}

}  // namespace vitc
