// Importing timm Swin Transformer checkpoints (swin_{tiny,small,base}_patch4_window7_224,
// swin_base_patch4_window12_384 and other sizes of them). timm keeps blocks per stage
// (layers.S.blocks.J) and its patch merging either at the start of a stage (layers.S.downsample,
// timm >= 0.9) or at the end of the one before (the original layout); vitc numbers blocks
// consecutively and calls the merging into stage S merges.(S-1).
#pragma once

#include <string>

#include "io/safetensors.h"
#include "model/config.h"
#include "model/timm_import.h"

namespace vitc {

// Whether the tensors are a timm Swin's (layers.0.blocks.0.attn.relative_position_bias_table).
bool is_timm_swin_checkpoint(const TensorMap& weights);

// The same tensors under vitc's names (blocks.I, merges.S, head). relative_position_index and
// attn_mask buffers (older timm saved them), which vitc computes from the geometry, are checked
// against its own values and dropped; a mismatch is refused naming the tensor. Swin V2 and other variants are refused
// by name.
TensorMap swin_weights_to_vitc(const TensorMap& timm_weights, const std::string& where);

// Whether tensors under vitc's names are a Swin's (a relative position bias table in block 0).
bool is_swin_weights(const TensorMap& weights);

// The config of a Swin state dict under vitc's names: width, patch size and channels from
// patch_embed.proj.weight; stages and their depths from the blocks and merges; window size from
// block 0's bias table ((2w - 1)^2 rows) and every block's heads from its table's columns; MLP
// widths, qkv bias and classes from the shapes. The image size is not in the weights: a named
// config of the same shapes gives it, else the size whose last stage is one window (true of
// every timm Swin). Errors name `where` and the tensor.
ViTConfig infer_swin_config(const TensorMap& weights, const CheckpointSidecar& sidecar,
                            const std::string& where, std::string* how = nullptr);

}  // namespace vitc
