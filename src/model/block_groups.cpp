// Block groups: single blocks, or Swin's pairs within a stage.
#include "model/block_groups.h"

#include "util/error.h"

namespace vitc {

std::vector<int> block_group(const ViTConfig& config, int i) {
  check(i >= 0 && i < config.depth(), "block ", i, " is outside [0, ", config.depth(), ")");
  if (!config.is_swin()) return {i};
  const int s = config.stage_of(i);
  const int first = config.stage_first_block(s), depth = config.swin.depths[static_cast<size_t>(s)];
  const int start = first + (i - first) / 2 * 2;
  if (start + 1 >= first + depth) return {start};
  return {start, start + 1};
}

std::vector<int> block_group_starts(const ViTConfig& config) {
  std::vector<int> starts;
  for (int i = 0; i < config.depth(); i += static_cast<int>(block_group(config, i).size())) {
    starts.push_back(i);
  }
  return starts;
}

}  // namespace vitc
