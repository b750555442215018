// UvcGeometry from a dense config, and the per-block MACs formula it shares with complexity.h.
#include "compress/uvc/geometry.h"

#include "model/complexity.h"
#include "util/error.h"

namespace vitc {

int64_t UvcGeometry::block_macs(int64_t kept_heads, int64_t v_total, int64_t mlp_kept) const {
  const int64_t N = tokens, D = embed_dim, qk = kept_heads * head_dim;
  return N * D * (2 * qk + v_total)  // qkv
         + N * N * (qk + v_total)    // q k^T and attn v
         + N * v_total * D           // proj
         + 2 * N * D * mlp_kept;     // fc1 + fc2
}

int64_t UvcGeometry::dense_macs() const {
  return fixed_macs + depth * block_macs(heads, static_cast<int64_t>(heads) * head_dim, mlp_hidden);
}

UvcGeometry uvc_geometry(const ViTConfig& source) {
  check(source.depth() > 0, "UVC: model '", source.name, "' has no blocks");
  check_keeps_every_token(source, "UVC");
  const BlockSpec& first = source.blocks[0];
  for (int l = 0; l < source.depth(); ++l) {
    const BlockSpec& b = source.blocks[l];
    check(!b.skip && !b.attn_skip && b.has_mlp(), "UVC needs a dense teacher: block ", l,
          " of model '", source.name, "' is already compressed (skipped or without attention/MLP)");
    check(b.heads.size() == first.heads.size() && b.mlp_hidden == first.mlp_hidden,
          "UVC needs a dense teacher with equal blocks: block ", l, " of model '", source.name,
          "' has ", b.heads.size(), " heads and MLP ", b.mlp_hidden, ", block 0 has ",
          first.heads.size(), " and ", first.mlp_hidden);
    for (const HeadSpec& h : b.heads) {
      check(h == first.heads[0] && h.qk_dim == h.v_dim, "UVC needs a dense teacher: block ", l,
            " of model '", source.name, "' has heads of uneven widths");
    }
  }
  UvcGeometry g;
  g.depth = source.depth();
  g.heads = static_cast<int>(first.heads.size());
  g.head_dim = first.heads[0].qk_dim;
  g.mlp_hidden = first.mlp_hidden;
  g.embed_dim = source.embed_dim;
  g.tokens = source.num_tokens();
  const Complexity c = compute_complexity(source);
  g.fixed_macs = c.embed_macs + c.stage_macs + c.head_macs;
  check(g.dense_macs() == c.macs(), "UVC: internal MACs formula disagrees with complexity.h for '",
        source.name, "' (", g.dense_macs(), " vs ", c.macs(), ")");
  return g;
}

}  // namespace vitc
