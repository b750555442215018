// ViT-Slim extraction: from one search, the Structure for a budget (per-type keep fractions, or a
// MACs or parameter target) and the physically sliced compact model, with the soft masks folded in or not.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "compress/slim/budget_target.h"
#include "compress/slim/ranking.h"
#include "compress/slim/search_dir.h"
#include "model/structure.h"

namespace vitc {

struct ExtractOptions {
  // A MACs or parameter target (one keep fraction for attention and MLP) ...
  std::optional<Budget> budget;
  KeepFractions fractions;  // ... or, without one, the paper's per-type budgets
  // Token keep fraction (the paper's forward-AND rule), dropped physically. 0 = not given: with
  // --macs and a search with token masks, tokens share the MACs budget's keep fraction;
  // otherwise (--params included: tokens hold no parameters) every token is kept.
  double tokens = 0;
  bool fold = false;               // fold the kept soft mask values into the weights (fold.h);
                      // off: kept masks become 1, as in the reference (measured better)
  double tolerance = 0.01;  // relative distance of the compact model's MACs (params) to the target
  int round_to = 1;              // kept widths on the --round-to grid (round_to.h)
  void validate() const;         // names the flag
  nlohmann::json to_json() const;
};

struct Extraction {
  Structure structure;
  VisionTransformer compact{nullptr};
  nlohmann::json info;  // fractions, MACs solution, token summary, fold, MACs and params
};

// Extracts from `search` (whose model is not modified: folding works on a copy). The compact
// model is in eval mode and its logits equal the searched model's under extraction_masks(...)
// up to float rounding. Dropped tokens are gone from the compact model (BlockSpec::tokens); the
// masked view removes them as attention keys (see structure_masks.h). info["tokens"] reports
// the tokens each block processes.
Extraction extract_from_search(const SearchDir& search, const ExtractOptions& options);

// The masks under which the searched model computes what the compact model computes:
// structure_masks(structure), times the soft mask values of the kept entries when `fold`.
ModelMasks extraction_masks(const ViTConfig& source, const SlimMasks& masks,
                            const Structure& structure, bool fold);

}  // namespace vitc
