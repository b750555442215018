// DC-ViT's progressive compression: the chosen blocks are compressed one at a time in ranked
// order, each step followed by feature-mimicking finetuning of the front of the network (up to the
// block after the last compressed one) against the original teacher.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compress/dcvit/ranking.h"
#include "compress/dcvit/settings.h"
#include "model/structure.h"

namespace vitc {

struct ProgressiveResult {
  VisionTransformer model{nullptr};  // teacher-shaped, trained under structure's masks
  Structure structure;
  std::map<int, std::vector<int>> kept;  // compressed block -> kept MLP neurons
  nlohmann::json steps = nlohmann::json::array();
};

// Compresses `blocks` (in this order) to MLP width `hidden`, writing step_<t>_block_<b>/ stage
// directories under `dir`. The MLP neurons of each step are chosen from the current (finetuned)
// weights. If `ranking` holds the finetuned candidate of blocks[0] at the same width and settings,
// the first step reuses it instead of finetuning again (as the reference does).
ProgressiveResult compress_progressively(const DcvitInputs& in, const std::vector<int>& blocks,
                                         int hidden, const DcvitSettings& settings,
                                         const std::string& dir, const Ranking* ranking);

}  // namespace vitc
