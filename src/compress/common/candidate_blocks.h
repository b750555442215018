// Which blocks the few-shot methods (DC-ViT, PRACTISE) may compress or drop.
#pragma once

#include <vector>

#include "model/config.h"

namespace vitc {

// The candidate blocks: first..last (inclusive; -1 = defaults 1 and depth-2, the reference's
// --min-block 1 --max-block depth-2). Throws naming --min-block/--max-block if out of range.
std::vector<int> candidate_blocks(const ViTConfig& config, int first = -1, int last = -1);

}  // namespace vitc
