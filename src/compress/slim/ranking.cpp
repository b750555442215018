// Global per-type ranking of ViT-Slim masks into a Structure, and the forward token rule.
#include "compress/slim/ranking.h"

#include <cmath>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "compress/common/round_to.h"
#include "util/error.h"

namespace vitc {

void KeepFractions::validate() const {
  check(attn > 0 && attn <= 1, "--budget-attn must lie in (0, 1], got ", attn);
  check(mlp > 0 && mlp <= 1, "--budget-mlp must lie in (0, 1], got ", mlp);
  check(tokens > 0 && tokens <= 1, "--budget-tokens must lie in (0, 1], got ", tokens);
}

double keep_threshold(const at::Tensor& values, double fraction) {
  check(fraction > 0 && fraction <= 1, "keep fraction must lie in (0, 1], got ", fraction);
  const at::Tensor sorted = std::get<0>(values.detach().reshape({-1}).to(torch::kDouble).sort());
  const int64_t n = sorted.numel();
  check(n > 0, "keep_threshold: no mask values to rank");
  const int64_t index = std::min<int64_t>(n - 1, static_cast<int64_t>((1.0 - fraction) * n));
  return sorted[index].item<double>();
}

Structure structure_from_fractions(const ViTConfig& source, const SlimMasks& masks,
                                   const KeepFractions& fractions, int round_to) {
  fractions.validate();
  const RoundTo grid(round_to);
  // Kept entries moved onto the grid, filled or emptied by the mask values.
  const auto on_grid = [&grid](std::vector<int> kept, const std::vector<double>& values) {
    const int full = static_cast<int>(values.size());
    const int count = grid.nearest(static_cast<int>(kept.size()), full, /*zero_allowed=*/true);
    return count == static_cast<int>(kept.size()) ? kept : resize_kept(kept, values, count);
  };
  const SlimGeometry g = slim_geometry(source);
  const at::Tensor attn = masks.attn.detach().to(torch::kDouble).cpu().contiguous();
  const at::Tensor mlp = masks.mlp.detach().to(torch::kDouble).cpu().contiguous();
  // Ranked over the entries the blocks have (blocks of other sizes leave zeros in the tensors).
  const double attn_threshold = keep_threshold(attn.masked_select(g.attn_valid()), fractions.attn);
  const double mlp_threshold = keep_threshold(mlp.masked_select(g.mlp_valid()), fractions.mlp);
  const auto a = attn.accessor<double, 3>();
  const auto m = mlp.accessor<double, 2>();
  Structure s;
  for (int l = 0; l < g.blocks; ++l) {
    BlockKeep b;
    for (int h = 0; h < g.heads[l]; ++h) {
      HeadKeep head;
      head.source = h;
      std::vector<double> values;
      for (int d = 0; d < g.head_dim[l]; ++d) {
        values.push_back(a[l][h][d]);
        if (a[l][h][d] >= attn_threshold) head.qk.push_back(d);
      }
      if (!grid.any_width()) head.qk = on_grid(head.qk, values);
      head.v = head.qk;
      if (!head.qk.empty()) b.heads.push_back(head);
    }
    b.attn_skip = b.heads.empty();
    std::vector<double> values;
    for (int n = 0; n < g.mlp_hidden[l]; ++n) {
      values.push_back(m[l][n]);
      if (m[l][n] >= mlp_threshold) b.mlp.push_back(n);
    }
    if (!grid.any_width()) b.mlp = on_grid(b.mlp, values);
    s.blocks.push_back(b);
  }
  if (fractions.tokens < 1) {
    const std::vector<std::vector<int>> kept = kept_tokens(masks, fractions.tokens);
    size_t reaching = static_cast<size_t>(g.patches);
    for (int l = 0; l < g.blocks; ++l) {  // listed only where the block drops tokens
      if (kept[static_cast<size_t>(l)].size() < reaching) s.blocks[static_cast<size_t>(l)].tokens = kept[static_cast<size_t>(l)];
      reaching = kept[static_cast<size_t>(l)].size();
    }
  }
  s = normalize_structure(s);
  validate_structure(s, source);
  return s;
}

std::vector<std::vector<int>> kept_tokens(const SlimMasks& masks, double fraction) {
  check(masks.has_tokens(),
        "token budget given, but the search had no token masks "
        "(search again with --tokens)");
  check(fraction > 0 && fraction <= 1, "--budget-tokens must lie in (0, 1], got ", fraction);
  const at::Tensor values =
      token_mask_values(masks.tokens.detach()).to(torch::kDouble).cpu().contiguous();
  const double threshold = keep_threshold(values, fraction);
  const auto v = values.accessor<double, 2>();
  std::vector<std::vector<int>> kept(values.size(0));
  std::vector<bool> alive(values.size(1), true);
  for (int64_t l = 0; l < values.size(0); ++l) {
    int64_t best = -1;  // the alive patch with the highest value, kept if no patch passes
    for (int64_t p = 0; p < values.size(1); ++p) {
      if (alive[p] && (best < 0 || v[l][p] > v[l][best])) best = p;
    }
    for (int64_t p = 0; p < values.size(1); ++p) {
      alive[p] = alive[p] && v[l][p] >= threshold;
      if (alive[p]) kept[l].push_back(static_cast<int>(p));
    }
    if (kept[l].empty()) {
      alive[best] = true;
      kept[l].push_back(static_cast<int>(best));
    }
  }
  return kept;
}

nlohmann::json token_summary(const ViTConfig& source, const Structure& structure) {
  nlohmann::json counts = nlohmann::json::array();
  int64_t kept = 0;
  for (int l = 0; l < source.depth(); ++l) {
    const size_t n = structure_patches(structure, source, l).size();
    counts.push_back(n);
    kept += static_cast<int64_t>(n);
  }
  const double total = static_cast<double>(source.depth()) * source.num_patches();
  return {{"per_block", counts}, {"kept_fraction", static_cast<double>(kept) / total}};
}

}  // namespace vitc
