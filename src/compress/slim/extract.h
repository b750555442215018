// ViT-Slim extraction: from one search, the Structure for a budget (per-type keep fractions or a
// MACs target) and the physically sliced compact model, with the soft masks folded in or not.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "compress/slim/macs_target.h"
#include "compress/slim/ranking.h"
#include "compress/slim/search_dir.h"
#include "model/structure.h"

namespace vitc {

struct ExtractOptions {
  std::optional<MacsTarget> macs;  // a MACs target (one keep fraction for attention and MLP) ...
  KeepFractions fractions;         // ... or, without one, the paper's per-type budgets
  double tokens = 0;               // token keep fraction (paper's rule); 0 = no token budget
  bool fold = false;               // fold the kept soft mask values into the weights (fold.h);
                      // off: kept masks become 1, as in the reference (measured better)
  double macs_tolerance = 0.01;  // relative
  void validate() const;         // names the flag
  nlohmann::json to_json() const;
};

struct Extraction {
  Structure structure;
  VisionTransformer compact{nullptr};
  nlohmann::json info;  // fractions, MACs solution, token summary, fold, MACs and params
};

// Extracts from `search` (whose model is not modified: folding works on a copy). The compact
// model is in eval mode and equals the searched model under extraction_masks(...) up to float
// rounding. Token keep sets are computed and reported (info["tokens"]) but the compact model
// keeps every token: see docs/vit_slim.md.
Extraction extract_from_search(const SearchDir& search, const ExtractOptions& options);

// The masks under which the searched model computes what the compact model computes:
// structure_masks(structure), times the soft mask values of the kept entries when `fold`.
ModelMasks extraction_masks(const ViTConfig& source, const SlimMasks& masks,
                            const Structure& structure, bool fold);

}  // namespace vitc
