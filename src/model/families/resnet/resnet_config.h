// The ResNet family's config (timm/torchvision resnet18/34/50 and the Fashion-MNIST fm_resnet): a
// stem, stages of basic or bottleneck residual blocks, global average pooling and a linear head.
// Every block carries its own inner widths, so a filter-pruned or block-dropped ResNet is a
// config like any other. CNNs are not transformers: they share the block-dropping methods with
// them (model/families/resnet/resnet_blocks.h), not heads and neurons.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "util/input_stats.h"

namespace vitc {

// One residual block. Its stage fixes its output width (planes * expansion) and, for a stage's
// first block, its stride and downsample branch; `inner` are the widths inside its branch:
// basic {conv1 out}, bottleneck {conv1 out, conv2 out}, which filter pruning narrows.
struct ResNetBlockSpec {
  int stage = 0;
  std::vector<int> inner;
  bool operator==(const ResNetBlockSpec& o) const { return stage == o.stage && inner == o.inner; }
};

struct ResNetConfig {
  std::string name;
  int img_size = 224;
  int in_chans = 3;
  int num_classes = 1000;
  std::string block = "basic";  // "basic" (two 3x3 convs) or "bottleneck" (1x1, 3x3, 1x1; x4 out)
  // "imagenet": conv 7x7 stride 2 + max pool 3x3 stride 2 (timm's default stem);
  // "small": conv 3x3 stride 1, no pooling (CIFAR-style, for 28x28 inputs).
  std::string stem = "imagenet";
  int stem_width = 64;
  std::vector<int> planes = {64, 128, 256, 512};  // per stage; stage s outputs planes[s] * expansion
  std::vector<ResNetBlockSpec> blocks;            // in order, stage by stage
  double bn_eps = 1e-5;
  std::vector<double> mean = imagenet_mean();
  std::vector<double> std = imagenet_std();

  int expansion() const { return block == "bottleneck" ? 4 : 1; }
  int inner_convs() const { return block == "bottleneck" ? 2 : 1; }
  int depth() const { return static_cast<int>(blocks.size()); }
  int num_stages() const { return static_cast<int>(planes.size()); }
  int stage_out(int s) const { return planes[s] * expansion(); }
  std::vector<int> stage_depths() const;
  int stage_first_block(int s) const;
  bool opens_stage(int i) const;   // block i is the first of its stage
  int block_in(int i) const;       // input channels of block i
  int block_out(int i) const { return stage_out(blocks[i].stage); }
  int block_stride(int i) const;   // 2 for the first block of stages 1.., else 1
  bool block_downsamples(int i) const;  // has a 1x1 conv + BN shortcut (stride or width change)
  int stem_side() const;           // feature map side after the stem
  int block_side_in(int i) const;
  int block_side_out(int i) const;
  int final_channels() const { return stage_out(num_stages() - 1); }
  // timm's name of block i: "layer<stage + 1>.<index in its stage>".
  std::string block_name(int i) const;
  // The block named "layerS.J", or -1.
  int block_index(const std::string& name) const;
  // Throws vitc::Error naming the field (and block) that is inconsistent.
  void validate() const;
  bool operator==(const ResNetConfig& o) const;
};

// resnet18, resnet34 (basic), resnet50 (bottleneck) as timm builds them, and fm_resnet: a
// ResNet-20-style network for 28x28 Fashion-MNIST (small stem of 16, three stages of three basic
// blocks, 16/32/64 wide).
ResNetConfig named_resnet_config(const std::string& name);  // throws listing the valid names
std::vector<std::string> named_resnet_config_names();
bool is_named_resnet_config(const std::string& name);

nlohmann::json resnet_config_to_json(const ResNetConfig& config);
// `where` names the file and `path` the object's key path ("config.") in error messages.
ResNetConfig resnet_config_from_json(const nlohmann::json& j, const std::string& where,
                                     const std::string& path = "");

}  // namespace vitc
