// The sizes UVC's variables live in: a dense source ViT's depth, heads, head width, MLP width,
// tokens and the MACs outside the blocks (patch embedding, head(s)).
#pragma once

#include <cstdint>

#include "model/config.h"

namespace vitc {

struct UvcGeometry {
  int depth = 0;
  int heads = 0;       // H per block
  int head_dim = 0;    // d: q/k and v width of every head
  int mlp_hidden = 0;  // F
  int embed_dim = 0;   // D
  int tokens = 0;      // N, cls (and dist) token included
  int64_t fixed_macs = 0;  // patch embedding + classifier head(s): not prunable

  // MACs of one kept block with `kept_heads` heads of full q/k width, `v_total` v dims over
  // those heads and `mlp_kept` MLP neurons: exactly model/complexity.h's count for that block.
  int64_t block_macs(int64_t kept_heads, int64_t v_total, int64_t mlp_kept) const;
  int64_t dense_macs() const;
};

// Throws vitc::Error unless `source` is dense: no skipped parts, every block with the same number
// of equal heads (q/k width = v width) and the same MLP width, as UVC's variables assume.
UvcGeometry uvc_geometry(const ViTConfig& source);

}  // namespace vitc
