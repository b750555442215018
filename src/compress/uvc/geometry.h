// The sizes UVC's variables live in: per block of a dense source model, its heads, head width,
// MLP width, width, tokens and keys per query (blocks may differ: Swin's stages), and what the
// budget counts (MACs or parameters, exact; or latency from a measured table) as per-block coefficients, with the cost outside the
// blocks (stem, stage transitions, head(s)).
#pragma once

#include <cstdint>
#include <vector>

#include "compress/common/budget.h"
#include "model/config.h"

namespace vitc {

// A kept block's MACs or parameters are affine in what UVC prunes:
//   fixed + per_qk_dim * (kept heads * d) + per_v_dim * (kept v dims) + per_head * kept heads
//   + per_neuron * kept MLP neurons
// (UVC keeps at least one head, one v dim per kept head and one neuron, so no branch vanishes and
// its norm, biases and LayerScale stay: they are the fixed part). MACs: per q/k dim N(2D + K)
// (its q and k rows, q k^T), per v dim N(2D + K) (its v row, proj column, attn v), per neuron
// 2ND. Parameters: per q/k dim 2(D + bias), per v dim 2D + bias, per head the rows of Swin's
// relative-position bias table, per neuron 2D + 1, fixed the norms, proj's and fc2's biases
// and LayerScale. Latency (picoseconds): the latency table's block affine parts
// (LatencyModel::block_affine), exact for the table's prediction where the heads compute as one
// group.
struct UvcCost {
  int64_t fixed = 0, per_qk_dim = 0, per_v_dim = 0, per_head = 0, per_neuron = 0;
};

// One dense block: H heads of width d (q/k = v), F MLP neurons, width D, N tokens, K keys per
// query (N, or a Swin window's tokens).
struct UvcBlock {
  int heads = 0;       // H
  int head_dim = 0;    // d
  int mlp_hidden = 0;  // F
  int dim = 0;         // D
  int tokens = 0;      // N, cls (and dist) token included
  int keys = 0;        // K
  UvcCost cost;        // of the geometry's resource
};

// UVC's per-block tensors ([L, H], [L, H, d], [L, F]) take the largest sizes of any block; the
// entries a block lacks are never pruned, never kept and never ranked (their scores are
// kAbsentScore, their bounds 0).
struct UvcGeometry {
  Resource resource = Resource::macs;  // what the costs count
  CostModel cost = Resource::macs;     // how (resource() == resource)
  int depth = 0;
  std::vector<UvcBlock> blocks;
  int max_heads = 0, max_head_dim = 0, max_mlp_hidden = 0;
  int64_t fixed_cost = 0;  // stem + stage transitions + classifier head(s): not prunable

  // MACs (parameters) of block l kept with `kept_heads` heads of full q/k width, `v_total` v dims
  // over those heads and `mlp_kept` MLP neurons: exactly model/complexity.h's count for that
  // block.
  int64_t block_cost(int l, int64_t kept_heads, int64_t v_total, int64_t mlp_kept) const;
  int64_t dense_block_cost(int l) const;
  int64_t dense_cost() const;
};

// Where a block has no such head, dim or neuron: larger than any real score, so that the k
// smallest never include it while k stays below the block's own count.
inline constexpr double kAbsentScore = 1e30;

// Throws vitc::Error unless `source` is dense: no skipped parts, every block with equal heads
// (q/k width = v width), as UVC's variables assume. Blocks may differ from each other. The costs
// count `resource`, checked against model/complexity.h on the dense model.
UvcGeometry uvc_geometry(const ViTConfig& source, const CostModel& cost = Resource::macs);

}  // namespace vitc
