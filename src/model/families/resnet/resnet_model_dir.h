// ResNet model directories (model.safetensors with timm's key names + model.json whose "family"
// is "resnet"), and ResNet checkpoints from timm or torchvision (safetensors, or .pth where
// LibTorch can read it): the config is inferred from the tensor shapes.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "io/safetensors.h"
#include "model/families/resnet/resnet.h"

namespace vitc {

inline constexpr const char* kResNetFamily = "resnet";

struct LoadedResNet {
  ResNet model{nullptr};
  nlohmann::json model_json;  // the whole model.json
  std::string source;         // the directory, the checkpoint, or "config <name> (seed S)"
};

// Writes model.safetensors and model.json atomically; `extra` keys (e.g. "structure", "source")
// go next to "config".
void save_resnet_dir(const std::string& dir, ResNetImpl& model,
                     const nlohmann::json& extra = nlohmann::json::object());
// Errors name the file and key; a model.json of another family says which it is. A compressed
// model's "structure" is checked against its "source_config".
LoadedResNet load_resnet_dir(const std::string& dir);

// Whether a state dict is a ResNet's (conv1.weight and layer1.0.conv1.weight).
bool is_resnet_state_dict(const TensorMap& weights);
// The config of a timm/torchvision ResNet state dict: stem (7x7 conv: "imagenet", 3x3: "small"),
// block type (conv3 present: bottleneck), blocks per stage, widths and inner widths from the conv
// shapes, classes from fc. The image size comes from a named config of the same shapes, else 224
// (imagenet stem) or 28 (small stem). `how` receives which. Tensors of blocks the family does not
// know are refused by the strict load that follows, naming them.
ResNetConfig infer_resnet_config(const TensorMap& weights, const std::string& where,
                                 std::string* how = nullptr);
// read_checkpoint_tensors + infer_resnet_config + a strict load. Old torchvision files without
// BatchNorm's num_batches_tracked load with the counters at 0.
LoadedResNet import_resnet_checkpoint(const std::string& path);

// Whether a model spec names a ResNet: a named ResNet config, a model directory whose model.json
// says so, or a checkpoint (file, or a hub folder's model.safetensors) with a ResNet's tensors.
// Commands that take both kinds ask this first.
bool is_resnet_spec(const std::string& name_or_path);

// A directory, a ResNet checkpoint file, or a named ResNet config (fresh weights from `seed`).
LoadedResNet load_resnet_spec(const std::string& name_or_path, uint64_t seed);

}  // namespace vitc
