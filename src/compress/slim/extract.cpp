// Budget -> Structure -> (folded) sliced compact model.
#include "compress/slim/extract.h"

#include <torch/torch.h>

#include "model/clone_model.h"
#include "compress/slim/fold.h"
#include "model/complexity.h"
#include "model/slice.h"
#include "model/structure_masks.h"
#include "util/error.h"

namespace vitc {

void ExtractOptions::validate() const {
  if (!budget) fractions.validate();
  check(tokens >= 0 && tokens <= 1,
        "--budget-tokens must lie in (0, 1] (0 = not given), got ", tokens);
  check(tolerance > 0 && tolerance < 1, "budget tolerance must lie in (0, 1), got ", tolerance);
  check(round_to >= 1, "--round-to must be a positive integer, got ", round_to);
}

nlohmann::json ExtractOptions::to_json() const {
  nlohmann::json j = {{"fold", fold}, {"budget_tokens", tokens}, {"round_to", round_to}};
  if (budget) {
    j["budget"] = {{"resource", resource_key(budget->resource)},
                   {budget->is_fraction ? "fraction" : "absolute", budget->value},
                   {"tolerance", tolerance}};
  } else {
    j["budget_attn"] = fractions.attn;
    j["budget_mlp"] = fractions.mlp;
  }
  return j;
}

ModelMasks extraction_masks(const ViTConfig& source, const SlimMasks& masks,
                            const Structure& structure, bool fold) {
  ModelMasks view = structure_masks(source, structure);
  if (!fold) return view;
  torch::NoGradGuard no_grad;
  for (size_t l = 0; l < view.blocks.size(); ++l) {
    BlockMasks& b = view.blocks[l];
    const at::Tensor z = masks.attn[l].reshape({-1}).to(torch::kCPU);
    if (b.qk.defined()) b.qk = b.qk * z;
    if (b.v.defined()) b.v = b.v * z;
    if (b.mlp.defined()) b.mlp = b.mlp * masks.mlp[l].to(torch::kCPU);
  }
  return view;
}

Extraction extract_from_search(const SearchDir& search, const ExtractOptions& options) {
  options.validate();
  const ViTConfig& source = search.model->config();
  Extraction e;
  e.info = options.to_json();
  if (options.budget) {
    const CostModel cost = options.budget->cost_model();
    TokenBudget tokens;  // tokens hold no parameters: they share MACs and latency budgets only
    tokens.shared = options.tokens == 0 && search.masks.has_tokens() &&
                    cost.resource() != Resource::params;
    if (options.tokens > 0) tokens.fraction = options.tokens;
    const BudgetSolution solution = solve_budget_target(
        source, search.masks, cost, options.budget->resolve(source_cost(source, cost)),
        options.tolerance, tokens, options.round_to);
    e.structure = solution.structure;
    e.info["solution"] = budget_solution_to_json(solution);
  } else {
    KeepFractions fractions = options.fractions;
    if (options.tokens > 0) fractions.tokens = options.tokens;
    e.structure = structure_from_fractions(source, search.masks, fractions, options.round_to);
  }
  e.info["tokens"] = token_summary(source, e.structure);
  VisionTransformer searched = search.model;  // shared: read only
  if (options.fold) {
    searched = clone_model(*searched);
    fold_slim_masks(*searched, search.masks);
  }
  e.compact = slice_model(*searched, e.structure);
  e.compact->eval();
  const Complexity before = compute_complexity(source);
  const Complexity after = compute_complexity(e.compact->config());
  e.info["macs"] = after.macs();
  e.info["params"] = after.params();
  e.info["macs_fraction"] = static_cast<double>(after.macs()) / before.macs();
  e.info["params_fraction"] = static_cast<double>(after.params()) / before.params();
  return e;
}

}  // namespace vitc
