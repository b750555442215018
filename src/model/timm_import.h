// Imports timm / DeiT / DeiT III Vision Transformer checkpoints (model.safetensors as timm and the
// Hugging Face hub publish them, PyTorch .pth files) and T2T-ViT's (model/families/t2t/
// t2t_import.h): the config is read from a timm config.json sidecar or inferred from the tensor
// shapes, and unsupported architectures are refused by name.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "io/safetensors.h"
#include "model/config.h"
#include "model/model_dir.h"

namespace vitc {

// A checkpoint file vitc can import: a regular file named *.safetensors, *.pth, *.pt or *.bin.
bool is_checkpoint_file(const std::string& path);

// The tensors of a checkpoint, with timm's key names:
//   .safetensors: read directly (F32/F16/BF16...);
//   .pth/.pt/.bin (torch.save's zip format): read with LibTorch's pickle reader where it can (a
//     plain dict of tensors, or one wrapped as {"model": ...} or {"state_dict": ...}); LibTorch
//     1.13 cannot read state-dict pickles, and the error then says how to convert the file with
//     python/pth_to_safetensors.py.
// A "module." prefix (DistributedDataParallel) is removed from every key.
TensorMap read_checkpoint_tensors(const std::string& path);

// What a timm config.json next to a checkpoint says (all fields optional).
struct CheckpointSidecar {
  std::string path;          // empty when there is none
  std::string architecture;  // e.g. "deit_small_patch16_224"
  int num_heads = 0;         // from "model_args" or the top level, 0 if absent
  std::vector<double> mean, std;
  double crop_pct = 0;  // 0 if absent
};
// Reads `<dir of checkpoint>/config.json` if it exists (errors name the file and key).
CheckpointSidecar read_sidecar(const std::string& checkpoint_path);

// Shared by the family importers: the sidecar's input statistics replace the config's, then the
// config is validated (errors name `where`); and the words for where a config came from.
void apply_sidecar_and_validate(ViTConfig& config, const CheckpointSidecar& sidecar,
                                const std::string& where);
std::string config_origin(const CheckpointSidecar& sidecar);
// Width, channels and patch size from a patch_embed.proj.weight [D, C, p, p]; refused (naming
// `where`) unless its patches are square.
void read_patch_embedding(const at::Tensor& patch_weight, ViTConfig& config,
                          const std::string& where);
// The heads of an imported model (the weights do not show them): the sidecar's num_heads, else
// those of the named config `match` (empty: none matched), else heads 64 wide, refused when
// embed_dim is not a multiple of 64; refused too when the heads do not divide embed_dim.
// `source` receives which rule gave them.
int infer_heads(int embed_dim, const CheckpointSidecar& sidecar, const std::string& match,
                const std::string& where, std::string* source);

// The config of a timm VisionTransformer / VisionTransformerDistilled state dict:
//   patch size, channels and width from patch_embed.proj.weight; image size, the distillation
//   token and no_embed_class (DeiT III) from pos_embed, cls_token and dist_token; depth, MLP
//   widths, qkv bias and LayerScale (ls1/ls2.gamma) from the blocks; classes from head.weight. Heads cannot be seen in the weights: they come from the
//   sidecar, else from the named config with the same shapes, else a head width of 64 (every
//   DeiT/ViT config). Keys of features vitc does not implement (register tokens,
//   global-pool fc_norm, qk-norm, ...) are refused in one error that names them, and so are
//   missing or wrongly shaped tensors. `how` receives where the config came from.
ViTConfig infer_timm_config(const TensorMap& weights, const CheckpointSidecar& sidecar,
                            const std::string& where, std::string* how = nullptr);

// read_checkpoint_tensors + read_sidecar + infer_timm_config + strict loading into a model.
// model_json holds the config and an "imported_from" record (file, how the config was found,
// the sidecar's crop_pct under "preprocess").
LoadedModel import_checkpoint(const std::string& path);

}  // namespace vitc
