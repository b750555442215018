// Where a model's parameter sits in its sequence of blocks, read from its name, for code that
// trains a front part of the model (feature mimicking): the block it belongs to (blocks.I.*),
// the block a family part between blocks feeds (Swin's patch merging merges.S.* opens stage
// S + 1), or -1 for the stem, the final norm and the heads.
#pragma once

#include <string>

#include "model/config.h"

namespace vitc {

int block_position(const ViTConfig& config, const std::string& parameter_name);

}  // namespace vitc
