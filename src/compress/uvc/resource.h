// UVC's resource function: the MACs (or parameters: the geometry's resource) of the model the
// pruning variables and block gates describe, differentiable in the continuous counts (through
// ste_ceil) and in the gates' keep probabilities. At integer counts and 0/1 gates it equals
// model/complexity.h's exact count for the Structure those values produce (decision.h), skipped
// blocks included.
#pragma once

#include <ATen/Tensor.h>

#include "compress/uvc/geometry.h"

namespace vitc {

// head_counts [L]: heads pruned per block; mlp_counts [L]: MLP neurons pruned; dim_counts [L, H]:
// v dims pruned inside each head; kept_heads [L, H]: 1 where the head survives the ranking (no
// gradient: which heads go is decided by the weights); keep_prob [L]: probability that the block
// runs (1 = kept, 0 = skipped). Returns a float64 scalar:
//   fixed + sum_l keep_prob_l * block_cost_l(H_l - heads_l,
//                                            d_l (H_l - heads_l) - sum_h kept_lh dims_lh, F_l - mlp_l)
// with H = the widest block's heads, H_l, d_l, F_l block l's sizes and block_cost_l as
// UvcGeometry::block_cost (q/k keep full width; pruned v dims save their qkv rows, their share of
// attn·v and their proj columns).
at::Tensor resource_cost(const UvcGeometry& geometry, const at::Tensor& head_counts,
                         const at::Tensor& mlp_counts, const at::Tensor& dim_counts,
                         const at::Tensor& kept_heads, const at::Tensor& keep_prob);

}  // namespace vitc
