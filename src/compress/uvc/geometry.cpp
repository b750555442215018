// UvcGeometry from a dense config, and the per-block MACs formula it shares with complexity.h.
#include "compress/uvc/geometry.h"

#include <algorithm>

#include "model/complexity.h"
#include "util/error.h"

namespace vitc {

int64_t UvcGeometry::block_macs(int l, int64_t kept_heads, int64_t v_total,
                                int64_t mlp_kept) const {
  const UvcBlock& b = blocks.at(static_cast<size_t>(l));
  const int64_t N = b.tokens, K = b.keys, D = b.dim, qk = kept_heads * b.head_dim;
  return N * D * (2 * qk + v_total)  // qkv
         + N * K * (qk + v_total)    // q k^T and attn v
         + N * v_total * D           // proj
         + 2 * N * D * mlp_kept;     // fc1 + fc2
}

int64_t UvcGeometry::dense_block_macs(int l) const {
  const UvcBlock& b = blocks.at(static_cast<size_t>(l));
  return block_macs(l, b.heads, int64_t{b.heads} * b.head_dim, b.mlp_hidden);
}

int64_t UvcGeometry::dense_macs() const {
  int64_t total = fixed_macs;
  for (int l = 0; l < depth; ++l) total += dense_block_macs(l);
  return total;
}

UvcGeometry uvc_geometry(const ViTConfig& source) {
  check(source.depth() > 0, "UVC: model '", source.name, "' has no blocks");
  check_keeps_every_token(source, "UVC");
  UvcGeometry g;
  g.depth = source.depth();
  for (int l = 0; l < source.depth(); ++l) {
    const BlockSpec& b = source.blocks[l];
    check(!b.skip && !b.attn_skip && b.has_mlp(), "UVC needs a dense teacher: block ", l,
          " of model '", source.name, "' is already compressed (skipped or without attention/MLP)");
    for (const HeadSpec& h : b.heads) {
      check(h == b.heads[0] && h.qk_dim == h.v_dim, "UVC needs a dense teacher: block ", l,
            " of model '", source.name, "' has heads of uneven widths");
    }
    UvcBlock u;
    u.heads = static_cast<int>(b.heads.size());
    u.head_dim = b.heads[0].qk_dim;
    u.mlp_hidden = b.mlp_hidden;
    u.dim = source.block_dim(l);
    u.tokens = source.block_tokens(l);
    u.keys = source.block_keys(l);
    g.blocks.push_back(u);
    g.max_heads = std::max(g.max_heads, u.heads);
    g.max_head_dim = std::max(g.max_head_dim, u.head_dim);
    g.max_mlp_hidden = std::max(g.max_mlp_hidden, u.mlp_hidden);
  }
  const Complexity c = compute_complexity(source);
  g.fixed_macs = c.embed_macs + c.stage_macs + c.head_macs;
  check(g.dense_macs() == c.macs(), "UVC: internal MACs formula disagrees with complexity.h for '",
        source.name, "' (", g.dense_macs(), " vs ", c.macs(), ")");
  return g;
}

}  // namespace vitc
