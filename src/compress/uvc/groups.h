// UVC's prunable groups and their scores, read from the current weights: each input column of
// attn.proj (one v dim of one head), each head (its block of proj columns), each input column of
// mlp.fc2 (one MLP neuron). Selection is "the k smallest squared L2 norms", recomputed as the
// weights move; the proximal step shrinks the selected groups.
#pragma once

#include <vector>

#include <ATen/Tensor.h>

#include "compress/uvc/geometry.h"
#include "model/vit.h"

namespace vitc {

// Squared L2 norms, float64 on the CPU, in tensors of the widest block's sizes: the heads, dims and
// neurons a block lacks score kAbsentScore (the dims of a head it lacks score 0: never counted).
struct GroupScores {
  at::Tensor dims;   // [L, H, d]: proj column of (block, head, dim)
  at::Tensor heads;  // [L, H]: sum of the head's dims
  at::Tensor mlp;    // [L, F]: fc2 column of (block, neuron)
};
GroupScores group_scores(VisionTransformerImpl& model, const UvcGeometry& geometry);

// Indices of the k smallest entries of a 1-D tensor, smallest first; ties go to the lower index,
// so every user of a ranking (the proximal step, the resource function, the Structure) agrees.
std::vector<int> smallest_indices(const at::Tensor& values, int64_t k);

// The integer pruning counts of every block (what ceil of the continuous variables gives).
struct PruneCounts {
  std::vector<int> heads;              // [L], heads pruned
  std::vector<int> mlp;                // [L], MLP neurons pruned
  std::vector<std::vector<int>> dims;  // [L][H], v dims pruned inside each head (0 for a head
                                       // the block lacks)
};

// 0/1 [L, H] (float64): heads that exist and survive the ranking of `scores.heads` under
// `counts.heads`.
at::Tensor kept_head_mask(const GroupScores& scores, const PruneCounts& counts);

// The proximal step of y·||w||² with step size `lr` (UVC's prox_w): divides the proj columns of
// the counts.dims smallest dims of each head by (1 + 2·lr·p[l,h]), every proj column of the
// counts.heads smallest heads by (1 + 2·lr·y[l,0]) and the counts.mlp smallest fc2 columns by
// (1 + 2·lr·y[l,1]). qkv and fc1 are untouched, as in the reference.
void prox_shrink(VisionTransformerImpl& model, const UvcGeometry& geometry,
                 const GroupScores& scores, const PruneCounts& counts, const at::Tensor& y,
                 const at::Tensor& p, double lr);

}  // namespace vitc
