// Importing T2T-ViT checkpoints in the layout of yitu-opensource/T2T-ViT (tokens_to_token.*,
// blocks.*, norm, head; its .pth.tar files converted once with python/pth_to_safetensors.py).
#pragma once

#include <string>

#include "io/safetensors.h"
#include "model/config.h"
#include "model/timm_import.h"

namespace vitc {

// Whether the tensors are a T2T-ViT's (they hold tokens_to_token.project.weight).
bool is_t2t_checkpoint(const TensorMap& weights);

// The config of a T2T-ViT state dict: the repository's soft splits (7/4/2, 3/2/1, 3/2/1),
// Performer or Transformer token attentions (a `w` random feature tensor or not), token width,
// channels, width, image size (from pos_embed), depth, MLP widths, qkv bias and classes from the
// shapes. Heads as infer_heads says (sidecar, else the named t2t_vit_* config of the same shapes,
// else a head width of 64). The softmax scale is embed_dim^-0.5, as the repository uses with its
// released weights; LayerNorm eps 1e-5. Errors name `where` and the tensor.
ViTConfig infer_t2t_config(const TensorMap& weights, const CheckpointSidecar& sidecar,
                           const std::string& where, std::string* how = nullptr);

}  // namespace vitc
