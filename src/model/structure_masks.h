// The masked counterpart of a Structure: 0/1 masks on the source model that compute what the
// compact model computes (the slicing contract: same logits up to float rounding).
#pragma once

#include "model/config.h"
#include "model/masks.h"
#include "model/structure.h"

namespace vitc {

// Float32 CPU masks for `source` (move them with to_device if the model is elsewhere):
//   skipped block      -> gate = 0
//   skipped attention  -> attn_gate = 0
//   kept attention     -> heads [num heads], qk [qk_total], v [v_total]: 1 where kept
//   kept MLP neurons   -> mlp [mlp_hidden]: 1 where kept
//   MLP removed        -> mlp_gate = 0 (an all-zero mlp mask would leave fc2's bias)
//   dropped tokens     -> keys [tokens the source block processes]: 0 for the tokens the
//                         structure has dropped by this block, on every block from the drop on.
//                         The dropped tokens stay in the source's residual stream but no kept
//                         token sees them, so the cls/dist outputs (the logits) are the compact
//                         model's; the other token outputs are not compared.
// Validates the structure first.
ModelMasks structure_masks(const ViTConfig& source, const Structure& structure);

// The same masks on another device / dtype.
ModelMasks masks_to(const ModelMasks& masks, const at::TensorOptions& options);

}  // namespace vitc
