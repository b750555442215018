// What a CNN compression keeps of a ResNet: per block, whether it runs and which channels of its
// inner convs survive. Slicing turns a model and a structure into the physically smaller ResNet
// (dropped blocks gone, later blocks of the stage renumbered as PRACTISE does; inner convs and
// their BatchNorms narrowed) that equals the masked model.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "model/families/resnet/resnet.h"
#include "model/families/resnet/resnet_config.h"

namespace vitc {

struct ResNetBlockKeep {
  bool kept = true;
  std::vector<std::vector<int>> inner;  // per inner conv, the kept output channels (ascending)
  bool operator==(const ResNetBlockKeep& o) const { return kept == o.kept && inner == o.inner; }
};

struct ResNetStructure {
  std::vector<ResNetBlockKeep> blocks;  // one per block of the source config
  bool operator==(const ResNetStructure& o) const { return blocks == o.blocks; }
};

// Every block and channel kept.
ResNetStructure full_resnet_structure(const ResNetConfig& config);
// `structure` with the blocks named in `dropped` ("layer3.2" or a block index) removed; the
// refusal of a stage's first block says why it cannot go.
ResNetStructure drop_resnet_blocks(const ResNetConfig& config, ResNetStructure structure,
                                   const std::vector<int>& dropped);
// Whether block i may be dropped: every block but the first of its stage (which changes the
// width or the resolution), as PRACTISE's candidates.
bool resnet_block_droppable(const ResNetConfig& config, int i);
// The droppable blocks of `config`, in order.
std::vector<int> resnet_drop_candidates(const ResNetConfig& config);

// Throws naming the block (by its timm name) and the field: a structure of another block count, a
// dropped stage-opening block, channel indices out of range, unsorted or repeated, or empty.
void validate_resnet_structure(const ResNetStructure& structure, const ResNetConfig& config);

// The config of the compact model: kept blocks only, inner widths the kept channel counts.
ResNetConfig compact_resnet_config(const ResNetConfig& config, const ResNetStructure& structure);
// The compact model: stem and head copied, kept blocks copied with their inner convs and
// BatchNorms (weights, biases and running statistics) narrowed to the kept channels.
ResNet slice_resnet(ResNetImpl& model, const ResNetStructure& structure);

nlohmann::json resnet_structure_to_json(const ResNetStructure& structure);
ResNetStructure resnet_structure_from_json(const nlohmann::json& j, const ResNetConfig& config,
                                           const std::string& where, const std::string& path);

}  // namespace vitc
