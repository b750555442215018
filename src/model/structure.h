// A Structure: per block of a source ViT, what a compressed model keeps (blocks, attention
// branches, heads, per-head q/k and v dimensions, MLP neurons). The language every method speaks.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "model/config.h"

namespace vitc {

// One kept head: its index among the source block's heads and the kept dimensions of that head
// (indices into the head's own q/k dims and v dims). q and k keep the same dims, so q.k only sums
// over kept dims; v may keep other dims than q/k.
struct HeadKeep {
  int source = 0;
  std::vector<int> qk;
  std::vector<int> v;
  bool operator==(const HeadKeep& o) const { return source == o.source && qk == o.qk && v == o.v; }
};

// What one block keeps.
//   skip:      the whole block is removed (x passes through); heads and mlp must then be empty.
//   attn_skip: the attention branch is removed; heads must then be empty.
//   heads:     kept heads (any order; slicing groups equal widths, see head_compute_order).
//   mlp:       kept MLP hidden neurons (indices into the source's fc1 rows); empty removes the MLP
//              branch, fc2's bias included.
//   tokens:    patch positions kept from this block on, as BlockSpec::tokens (strictly
//              increasing, nested, cls/dist tokens always kept and not listed); empty: none
//              dropped here. Allowed on a skipped block too: the tokens are dropped before it.
// A block that is not skipped must keep something: attn_skip with an empty mlp is rejected by
// validate_structure (it would be a skip in disguise); normalize_structure turns it into a skip.
struct BlockKeep {
  bool skip = false;
  bool attn_skip = false;
  std::vector<HeadKeep> heads;
  std::vector<int> mlp;
  std::vector<int> tokens;
  bool operator==(const BlockKeep& o) const;
};

// Usage:
//   Structure s = dense_structure(model->config());
//   s.blocks[3].heads.erase(s.blocks[3].heads.begin());   // drop head 0 of block 3
//   s.blocks[5].skip = true; s.blocks[5].heads.clear(); s.blocks[5].mlp.clear();
//   validate_structure(s, model->config());
//   VisionTransformer compact = slice_model(*model, s);    // model/slice.h
// Geometry that a Structure does not change (embed_dim, tokens, classes, distillation, patch
// and image sizes) comes from the source config it is applied to.
struct Structure {
  std::vector<BlockKeep> blocks;
  bool operator==(const Structure& o) const { return blocks == o.blocks; }
};

// Everything of `source` kept, indices in order.
Structure dense_structure(const ViTConfig& source);

// Throws vitc::Error naming the block and field that is wrong, e.g.
//   "structure for model 'fm_tiny': blocks[3].heads[1].v: index 70 out of range [0, 64)".
// Checks: one entry per source block; a skipped source block stays skipped; indices in range and
// without duplicates; a kept head has at least one q/k and one v dim; a kept attention has at
// least one head (else attn_skip); a block that is not skipped keeps attention or MLP neurons;
// token lists are strictly increasing, nested, and keep no patch the source model drops.
void validate_structure(const Structure& structure, const ViTConfig& source);

// The patch positions block `block` processes under `structure` (its last token list at or
// before the block, else every patch). Call on a validated structure.
std::vector<int> structure_patches(const Structure& structure, const ViTConfig& source, int block);

// Makes explicit what a method may leave implicit: a block keeping nothing (attention skipped or
// without heads, no MLP neurons) becomes skip = true; an attention without heads becomes
// attn_skip = true; lists of skipped parts are cleared.
Structure normalize_structure(Structure structure);

// The order in which the compact block computes the kept heads: `block.heads` indices, stably
// grouped so that heads of equal (qk, v) widths are adjacent (one batched matmul per group).
std::vector<int> head_compute_order(const BlockKeep& block);

// The compact model's config: per block the kept sizes (heads in head_compute_order), the source
// block's attn_scale, name `<source name>_compact`. Validates the structure first.
ViTConfig compact_config(const ViTConfig& source, const Structure& structure);

nlohmann::json structure_to_json(const Structure& structure);
// A short per-block view for records: {"skipped", "heads" (kept source heads), "v_dims" (per kept
// head), "mlp"} per block.
nlohmann::json structure_summary(const Structure& structure);
// `where` names the source (a file path) in error messages; checks types, not ranges.
Structure structure_from_json(const nlohmann::json& j, const std::string& where);

// What a compressed model.json records besides its config.
struct CompressedInfo {
  ViTConfig source;
  Structure structure;
};

// Reads "structure" and "source_config" from a model.json, if present (nullopt for a dense model
// without them), validates the structure against the source config and checks that `config` (the
// weights' config) is compact_config(source, structure) block for block. Errors name `where`.
std::optional<CompressedInfo> read_compressed_info(const nlohmann::json& model_json,
                                                   const ViTConfig& config,
                                                   const std::string& where);

}  // namespace vitc
