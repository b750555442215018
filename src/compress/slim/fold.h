// Folding ViT-Slim's learned soft mask values into the weights they scale, so that extraction
// starts from the function the search trained instead of resetting kept masks to 1. Optional
// (`--fold`): measured worse before finetuning and equal after it (docs/vit_slim.md).
#pragma once

#include "compress/slim/slim_masks.h"
#include "model/vit.h"

namespace vitc {

// Scales, per (block, head, dim) with mask z, the q row, the k row and the v row of qkv (weight
// and bias: the reference multiplies qkv's output, bias included) by z, and per MLP neuron the
// fc2 column by its mask. Without masks the model then computes what it computed under
// slim_model_masks(masks) (q.k sees z^2 either way), up to float rounding. Token masks scale
// activations per token and have no weight to go into: they are left out (see docs/vit_slim.md).
// Writes into `model`'s parameters, so the caller must own that model (e.g. the searched model
// loaded for one extraction), never a teacher another component still reads.
void fold_slim_masks(VisionTransformerImpl& model, const SlimMasks& masks);

}  // namespace vitc
