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
    check(d.counts.heads[l] >= 0 && d.counts.heads[l] < g.heads, "UVC decision: block ", l,
          " prunes ", d.counts.heads[l], " heads, expected [0, ", g.heads - 1, "]");
    check(d.counts.mlp[l] >= 0 && d.counts.mlp[l] < g.mlp_hidden, "UVC decision: block ", l,
          " prunes ", d.counts.mlp[l], " MLP neurons, expected [0, ", g.mlp_hidden - 1, "]");
    check(d.counts.dims[l].size() == static_cast<size_t>(g.heads), "UVC decision: block ", l,
          " has ", d.counts.dims[l].size(), " head dim counts, expected ", g.heads);
    for (int c : d.counts.dims[l]) {
      check(c >= 0 && c < g.head_dim, "UVC decision: block ", l, " prunes ", c,
            " dims of a head, expected [0, ", g.head_dim - 1, "]");
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
    const std::vector<int> all_dims = complement({}, g.head_dim);
    for (int h : complement(smallest_indices(scores.heads[l], d.counts.heads[l]), g.heads)) {
      HeadKeep head;
      head.source = h;
      head.qk = all_dims;
      head.v = complement(smallest_indices(scores.dims[l][h], d.counts.dims[l][h]), g.head_dim);
      b.heads.push_back(head);
    }
    b.mlp = complement(smallest_indices(scores.mlp[l], d.counts.mlp[l]), g.mlp_hidden);
  }
  validate_structure(s, source);
  return s;
}

int64_t decision_macs(const UvcGeometry& g, const UvcDecision& d, const GroupScores& scores) {
  int64_t total = g.fixed_macs;
  for (int l = 0; l < g.depth; ++l) {
    if (d.skip[l]) continue;
    int64_t v = 0;
    for (int h : complement(smallest_indices(scores.heads[l], d.counts.heads[l]), g.heads))
      v += g.head_dim - d.counts.dims[l][h];
    total += g.block_macs(g.heads - d.counts.heads[l], v, g.mlp_hidden - d.counts.mlp[l]);
  }
  return total;
}

}  // namespace vitc
