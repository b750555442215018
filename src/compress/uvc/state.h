// UVC's variables besides the weights: the continuous pruning amounts, the block gates' logits,
// the dual variables, and the gate optimiser's buffers. Saved with every stage-1 checkpoint.
#pragma once

#include <string>
#include <vector>

#include <ATen/Tensor.h>

#include "compress/uvc/decision.h"
#include "compress/uvc/geometry.h"
#include "io/safetensors.h"

namespace vitc {

// All float64 on the CPU. Pruning amounts are fractions of their upper bound (the block's heads
// H_l, neurons F_l, dims d_l): count = ceil(fraction · bound), and a fraction stays below
// (bound - 1) / bound so that one head, one neuron and one v dim per head always survive (UVC's
// clamp to ub - 1 - 1e-8). [L, H] tensors have the widest block's H; a head a block lacks has
// bound 0, so its fraction and count stay 0.
struct UvcState {
  at::Tensor s;      // [L, 2]: fraction of heads (col 0) and of MLP neurons (col 1) pruned; 0 at start
  at::Tensor r;      // [L, H]: fraction of v dims pruned inside each head; 0 at start
  at::Tensor gates;  // [L, 2]: gate logits (skip, run), (-1, +1) at start as in the reference
  at::Tensor y;      // [L, 2]: duals of the head and MLP group penalties, >= 0, 1e-3 at start
  at::Tensor p;      // [L, H]: duals of the per-head dim penalties, >= 0, 1e-3 at start
  at::Tensor z;      // [1]: dual of the budget constraint, 1e-3 at start
  at::Tensor gate_momentum;  // [L, 2]: SGD momentum buffer of the gate optimiser
  at::Tensor gate_task_sum;      // [L]: minus the measured skip costs since the last gate step
  at::Tensor gate_resource_sum;  // [L]: the gates' resource terms (primal_dual.h), same steps
  at::Tensor gate_grad_steps;  // [1]: how many are accumulated
};

UvcState make_uvc_state(const UvcGeometry& geometry);
TensorMap uvc_state_to_tensors(const UvcState& state);
// `where` names the file in errors (missing tensor, wrong shape).
UvcState uvc_state_from_tensors(const TensorMap& tensors, const UvcGeometry& geometry,
                                const std::string& where);

// Largest allowed fraction for a bound (keeps one unit).
double max_prune_fraction(int bound);
// The bounds of every count (float64): heads [L], mlp [L], head_dim [L, H] (0 where absent).
struct PruneBounds {
  at::Tensor heads, mlp, head_dim;
};
PruneBounds prune_bounds(const UvcGeometry& geometry);
// max_prune_fraction of each bound (0 for bounds <= 1).
at::Tensor max_prune_fractions(const at::Tensor& bounds);
// Clamps s and r into [0, max_prune_fraction] in place.
void clamp_pruning(UvcState& state, const UvcGeometry& geometry);

// ceil(fraction · bound) with a straight-through gradient: [L], [L], [L, H] (float64).
struct ContinuousCounts {
  at::Tensor heads, mlp, dims;
};
ContinuousCounts continuous_counts(const UvcState& state, const UvcGeometry& geometry);

// The integer decision of the current variables: counts as above, block l skipped iff its gate
// logits say skip (g[l,0] >= g[l,1]: the reference's final rule, keep iff g1 > g0).
UvcDecision current_decision(const UvcState& state, const UvcGeometry& geometry);

}  // namespace vitc
