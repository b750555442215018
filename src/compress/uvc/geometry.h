// The sizes UVC's variables live in: per block of a dense source model, its heads, head width,
// MLP width, width, tokens and keys per query (blocks may differ: Swin's stages), and the MACs
// outside the blocks (stem, stage transitions, head(s)).
#pragma once

#include <cstdint>
#include <vector>

#include "model/config.h"

namespace vitc {

// One dense block: H heads of width d (q/k = v), F MLP neurons, width D, N tokens, K keys per
// query (N, or a Swin window's tokens).
struct UvcBlock {
  int heads = 0;       // H
  int head_dim = 0;    // d
  int mlp_hidden = 0;  // F
  int dim = 0;         // D
  int tokens = 0;      // N, cls (and dist) token included
  int keys = 0;        // K
};

// UVC's per-block tensors ([L, H], [L, H, d], [L, F]) take the largest sizes of any block; the
// entries a block lacks are never pruned, never kept and never ranked (their scores are
// kAbsentScore, their bounds 0).
struct UvcGeometry {
  int depth = 0;
  std::vector<UvcBlock> blocks;
  int max_heads = 0, max_head_dim = 0, max_mlp_hidden = 0;
  int64_t fixed_macs = 0;  // stem + stage transitions + classifier head(s): not prunable

  // MACs of block l kept with `kept_heads` heads of full q/k width, `v_total` v dims over those
  // heads and `mlp_kept` MLP neurons: exactly model/complexity.h's count for that block.
  int64_t block_macs(int l, int64_t kept_heads, int64_t v_total, int64_t mlp_kept) const;
  int64_t dense_block_macs(int l) const;
  int64_t dense_macs() const;
};

// Where a block has no such head, dim or neuron: larger than any real score, so that the k
// smallest never include it while k stays below the block's own count.
inline constexpr double kAbsentScore = 1e30;

// Throws vitc::Error unless `source` is dense: no skipped parts, every block with equal heads
// (q/k width = v width), as UVC's variables assume. Blocks may differ from each other.
UvcGeometry uvc_geometry(const ViTConfig& source);

}  // namespace vitc
