// The units in which block-level methods (DC-ViT, PRACTISE) compress or drop blocks: single
// blocks of a ViT, and a Swin's (unshifted, shifted) pairs within a stage, as the DC-ViT paper
// removes Swin blocks. The family decides; methods ask for a block's group, never for the family.
#pragma once

#include <vector>

#include "model/config.h"

namespace vitc {

// The blocks compressed or dropped together with block i, in order: {i} for a ViT; for a Swin,
// blocks 2j and 2j + 1 of i's stage (counted from the stage's first block; a stage of odd depth
// leaves its last block alone).
std::vector<int> block_group(const ViTConfig& config, int i);

// Every group's first block, in order.
std::vector<int> block_group_starts(const ViTConfig& config);

}  // namespace vitc
