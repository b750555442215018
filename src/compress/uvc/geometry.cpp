// UvcGeometry from a dense config, and the per-block MACs and parameter formulas it shares with
// complexity.h.
#include "compress/uvc/geometry.h"

#include <algorithm>

#include "compress/common/latency_model.h"
#include "model/complexity.h"
#include "util/error.h"

namespace vitc {

int64_t UvcGeometry::block_cost(int l, int64_t kept_heads, int64_t v_total,
                                int64_t mlp_kept) const {
  const UvcBlock& b = blocks.at(static_cast<size_t>(l));
  const UvcCost& c = b.cost;
  return c.fixed + c.per_qk_dim * kept_heads * b.head_dim + c.per_v_dim * v_total +
         c.per_head * kept_heads + c.per_neuron * mlp_kept;
}

namespace {

UvcCost block_cost_coefficients(const ViTConfig& source, int l, const UvcBlock& u,
                                const CostModel& cost) {
  const Resource resource = cost.resource();
  const int64_t N = u.tokens, K = u.keys, D = u.dim;
  UvcCost c;
  if (resource == Resource::latency) {
    const LatencyModel::Affine a = cost.latency_model().block_affine(source, l);
    c.fixed = latency_ms_to_ps(a.fixed);
    c.per_qk_dim = latency_ms_to_ps(a.per_qk_dim);
    c.per_v_dim = latency_ms_to_ps(a.per_v_dim);
    c.per_head = latency_ms_to_ps(a.per_head);
    c.per_neuron = latency_ms_to_ps(a.per_neuron);
    return c;
  }
  if (resource == Resource::macs) {
    c.per_qk_dim = N * (2 * D + K);  // its q and k rows, its share of q k^T
    c.per_v_dim = N * (2 * D + K);   // its v row and proj column, its share of attn v
    c.per_neuron = 2 * N * D;        // fc1 row, fc2 column
    return c;
  }
  const int64_t bias = source.qkv_bias ? 1 : 0;
  const int64_t layer_scale = source.layer_scale ? D : 0;
  const AttentionWindow window = source.block_window(l);
  c.per_qk_dim = 2 * (D + bias);  // q and k rows with their biases
  c.per_v_dim = D + bias + D;     // v row and bias, proj column
  c.per_head = window.windowed() ? int64_t{2 * window.window - 1} * (2 * window.window - 1) : 0;
  c.per_neuron = D + 1 + D;       // fc1 row and bias, fc2 column
  c.fixed = (2 * D + D + layer_scale)   // norm1, proj bias, ls1
            + (2 * D + D + layer_scale);  // norm2, fc2 bias, ls2
  return c;
}

}  // namespace

int64_t UvcGeometry::dense_block_cost(int l) const {
  const UvcBlock& b = blocks.at(static_cast<size_t>(l));
  return block_cost(l, b.heads, int64_t{b.heads} * b.head_dim, b.mlp_hidden);
}

int64_t UvcGeometry::dense_cost() const {
  int64_t total = fixed_cost;
  for (int l = 0; l < depth; ++l) total += dense_block_cost(l);
  return total;
}

UvcGeometry uvc_geometry(const ViTConfig& source, const CostModel& cost) {
  const Resource resource = cost.resource();
  check(source.depth() > 0, "UVC: model '", source.name, "' has no blocks");
  check_keeps_every_token(source, "UVC");
  UvcGeometry g;
  g.resource = resource;
  g.cost = cost;
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
    u.cost = block_cost_coefficients(source, l, u, cost);
    g.blocks.push_back(u);
    g.max_heads = std::max(g.max_heads, u.heads);
    g.max_head_dim = std::max(g.max_head_dim, u.head_dim);
    g.max_mlp_hidden = std::max(g.max_mlp_hidden, u.mlp_hidden);
  }
  if (resource == Resource::latency) {  // the stem, head and what the table's fit leaves
    int64_t blocks = 0;
    for (int l = 0; l < g.depth; ++l) blocks += g.dense_block_cost(l);
    g.fixed_cost = source_cost(source, cost) - blocks;
    return g;
  }
  const Complexity c = compute_complexity(source);
  const bool macs = resource == Resource::macs;
  g.fixed_cost = macs ? c.embed_macs + c.stage_macs + c.head_macs
                      : c.embed_params + c.stage_params + c.head_params;
  const int64_t total = complexity_amount(c, resource);
  check(g.dense_cost() == total, "UVC: internal ", resource_name(resource),
        " formula disagrees with complexity.h for '", source.name, "' (", g.dense_cost(), " vs ",
        total, ")");
  return g;
}

}  // namespace vitc
