// Integer UVC configurations: validation, Structure, exact MACs, summary.
#include "compress/uvc/decision.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace vitc {

void validate_decision(const UvcGeometry& g, const UvcDecision& d) {
  const size_t L = g.depth;
  check(d.skip.size() == L && d.counts.heads.size() == L && d.counts.mlp.size() == L &&
            d.counts.dims.size() == L,
        "UVC decision: expected ", L, " blocks");
  for (size_t l = 0; l < L; ++l) {
    const UvcBlock& u = g.blocks[l];
    check(d.counts.heads[l] >= 0 && d.counts.heads[l] < u.heads, "UVC decision: block ", l,
          " prunes ", d.counts.heads[l], " heads, expected [0, ", u.heads - 1, "]");
    check(d.counts.mlp[l] >= 0 && d.counts.mlp[l] < u.mlp_hidden, "UVC decision: block ", l,
          " prunes ", d.counts.mlp[l], " MLP neurons, expected [0, ", u.mlp_hidden - 1, "]");
    check(d.counts.dims[l].size() == static_cast<size_t>(g.max_heads), "UVC decision: block ", l,
          " has ", d.counts.dims[l].size(), " head dim counts, expected ", g.max_heads);
    for (int h = 0; h < g.max_heads; ++h) {
      const int c = d.counts.dims[l][static_cast<size_t>(h)];
      const int bound = h < u.heads ? u.head_dim : 1;  // a head the block lacks: count 0
      check(c >= 0 && c < bound, "UVC decision: block ", l, " prunes ", c, " dims of head ", h,
            ", expected [0, ", bound - 1, "]");
    }
  }
}

namespace {

std::vector<int> complement(const std::vector<int>& removed, int n) {
  std::vector<bool> gone(n, false);
  for (int i : removed) gone[i] = true;
  std::vector<int> kept;
  for (int i = 0; i < n; ++i) {
    if (!gone[i]) kept.push_back(i);
  }
  return kept;
}

}  // namespace

Structure decision_structure(const ViTConfig& source, const UvcGeometry& g,
                             const UvcDecision& d, const GroupScores& scores) {
  validate_decision(g, d);
  Structure s;
  s.blocks.resize(g.depth);
  for (int l = 0; l < g.depth; ++l) {
    BlockKeep& b = s.blocks[l];
    if (d.skip[l]) {
      b.skip = true;
      continue;
    }
    const UvcBlock& u = g.blocks[static_cast<size_t>(l)];
    const std::vector<int> all_dims = complement({}, u.head_dim);
    for (int h : complement(smallest_indices(scores.heads[l], d.counts.heads[l]), u.heads)) {
      HeadKeep head;
      head.source = h;
      head.qk = all_dims;
      head.v = complement(smallest_indices(scores.dims[l][h], d.counts.dims[l][h]), u.head_dim);
      b.heads.push_back(head);
    }
    b.mlp = complement(smallest_indices(scores.mlp[l], d.counts.mlp[l]), u.mlp_hidden);
  }
  validate_structure(s, source);
  return s;
}

std::vector<std::vector<int>> head_order(const UvcGeometry& g, const GroupScores& scores) {
  std::vector<std::vector<int>> order;
  for (int l = 0; l < g.depth; ++l)
    order.push_back(smallest_indices(scores.heads[l], g.blocks[static_cast<size_t>(l)].heads));
  return order;
}

int64_t decision_cost(const UvcGeometry& g, const UvcDecision& d,
                      const std::vector<std::vector<int>>& order) {
  int64_t total = g.fixed_cost;
  for (int l = 0; l < g.depth; ++l) {
    if (d.skip[l]) continue;
    const UvcBlock& u = g.blocks[static_cast<size_t>(l)];
    int64_t v = 0;
    for (int i = d.counts.heads[l]; i < u.heads; ++i)
      v += u.head_dim - d.counts.dims[l][order[static_cast<size_t>(l)][static_cast<size_t>(i)]];
    total += g.block_cost(l, u.heads - d.counts.heads[l], v, u.mlp_hidden - d.counts.mlp[l]);
  }
  return total;
}

int64_t decision_cost(const UvcGeometry& g, const UvcDecision& d, const GroupScores& scores) {
  return decision_cost(g, d, head_order(g, scores));
}

}  // namespace vitc
