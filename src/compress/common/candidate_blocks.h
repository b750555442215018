// Which blocks the few-shot methods (DC-ViT, PRACTISE) may compress or drop.
#pragma once

#include <vector>

#include "model/block_groups.h"
#include "model/config.h"

namespace vitc {

// The candidates: the block groups (model/block_groups.h: single blocks, or Swin's pairs) lying
// in first..last (inclusive; -1 = defaults 1 and depth-2, the reference's --min-block 1
// --max-block depth-2), each named by its first block. Throws naming --min-block/--max-block if
// out of range, or if a bound the user gave splits a group (naming it); default bounds shrink
// to whole groups.
std::vector<int> candidate_blocks(const ViTConfig& config, int first = -1, int last = -1);

// The blocks of the candidates `starts` (their groups), in order.
std::vector<int> candidate_group_blocks(const ViTConfig& config, const std::vector<int>& starts);

}  // namespace vitc
