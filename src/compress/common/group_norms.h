// L2 norms of the structured groups a pruning method removes: each head (its q, k, v rows of
// qkv with their biases, and its proj columns) and each MLP neuron (its fc1 row and bias and its
// fc2 column), per block. Magnitude pruning keeps the largest. With LayerScale the proj and fc2
// weights count times their gamma, as the residual stream receives them.
#pragma once

#include <vector>

#include "model/vit.h"

namespace vitc {

struct BlockGroupNorms {
  std::vector<double> heads;  // one per head of the block (empty without attention)
  std::vector<double> mlp;    // one per hidden neuron (empty without MLP)
};

std::vector<BlockGroupNorms> group_norms(VisionTransformerImpl& model);

}  // namespace vitc
