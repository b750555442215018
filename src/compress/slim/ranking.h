// ViT-Slim extraction by the paper's budgets: per mask type, the fraction of entries kept,
// ranked globally across blocks (and heads), turned into a Structure; token keep sets.
#pragma once

#include <vector>

#include <ATen/Tensor.h>
#include <nlohmann/json_fwd.hpp>

#include "compress/slim/slim_masks.h"
#include "model/structure.h"

namespace vitc {

// Fractions of mask entries kept per type, each in (0, 1] (the paper's --budget_attn/_mlp, and
// the token budget: 1 keeps every token; below 1 needs a search with token masks).
struct KeepFractions {
  double attn = 1.0;
  double mlp = 1.0;
  double tokens = 1.0;
  void validate() const;  // names --budget-attn / --budget-mlp / --budget-tokens
};

// The reference's threshold (base_model.py): values sorted ascending, element int((1 - f) * n).
// Entries >= it are kept, so ties keep extra entries and at least one entry is always kept.
// Ranking is on the signed value: a negative mask ranks below every positive one.
double keep_threshold(const at::Tensor& values, double fraction);

// The Structure whose kept attention dims and MLP neurons are the mask entries >= their type's
// threshold. q/k and v of a head keep the same dims (one shared mask). A head with no kept dim is
// removed; a block left without heads gets attn_skip; a block without neurons has no MLP; a block
// keeping neither is skipped (normalize_structure). With fractions.tokens < 1, the blocks' token
// lists are kept_tokens(masks, fractions.tokens), listed where a block drops tokens. With
// `round_to` > 1 (--round-to, compress/common/round_to.h) each head's kept dims and each block's
// kept neurons move to the nearest multiple of it (0 removes the head or the MLP; a full width
// stays), filled or emptied in the order of the mask values. Validated against `source`.
Structure structure_from_fractions(const ViTConfig& source, const SlimMasks& masks,
                                   const KeepFractions& fractions, int round_to = 1);

// The paper's token rule: token masks (their applied values, token_mask_values) are ranked
// globally over all blocks with keep_threshold(fraction); a patch token is kept in block l only
// if it passes in every block 0..l (once removed, it stays removed: the reference code does the
// opposite, keeping a token in block l if any deeper block keeps it). Returns, per block, the
// kept patch indices (0-based among the patches; cls/dist tokens are always kept, not listed).
// A block keeps at least one patch: where the rule would leave none, the alive patch with the
// highest mask value at that block stays (as keep_threshold always keeps one entry).
std::vector<std::vector<int>> kept_tokens(const SlimMasks& masks, double fraction);

// {"per_block": [patch tokens each block processes], "kept_fraction": kept / (blocks x patches)}.
nlohmann::json token_summary(const ViTConfig& source, const Structure& structure);

}  // namespace vitc
