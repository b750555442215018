// The candidate range of the few-shot methods, checked against the model's depth.
#include "compress/common/candidate_blocks.h"

#include "util/error.h"

namespace vitc {

std::vector<int> candidate_blocks(const ViTConfig& config, int first, int last) {
  // PRACTISE and DC-ViT mimic the teacher's features token by token.
  check_keeps_every_token(config, "block removal by feature mimicking (PRACTISE, DC-ViT)");
  const int depth = config.depth();
  const bool given_first = first >= 0, given_last = last >= 0;
  if (first < 0) first = depth > 2 ? 1 : 0;
  if (last < 0) last = depth > 2 ? depth - 2 : depth - 1;
  check(first < depth, "--min-block ", first, " is outside the ", depth, " blocks of '",
        config.name, "'");
  check(last < depth && last >= first, "--max-block ", last, " must lie in [--min-block ", first,
        ", ", depth - 1, "]");
  // A bound the user gave must not cut a group: the lower one at a group's first block, the
  // upper one at a group's last.
  const auto refuse_split = [&](int b, bool lower, bool given) {
    const std::vector<int> group = block_group(config, b);
    const int edge = lower ? group.front() : group.back();
    check(!given || b == edge, lower ? "--min-block " : "--max-block ", b, " splits blocks ",
          join(group), " of '", config.name, "', which are compressed or dropped together (a "
          "Swin's unshifted and shifted pair); give ", edge, " or ",
          lower ? group.back() + 1 : group.front() - 1);
  };
  refuse_split(first, /*lower=*/true, given_first);
  refuse_split(last, /*lower=*/false, given_last);
  std::vector<int> out;
  for (int start : block_group_starts(config)) {
    const std::vector<int> group = block_group(config, start);
    if (group.front() >= first && group.back() <= last) out.push_back(start);
  }
  check(!out.empty(), "no whole block group lies in --min-block ", first, " .. --max-block ", last,
        " of '", config.name, "'");
  return out;
}

std::vector<int> candidate_group_blocks(const ViTConfig& config, const std::vector<int>& starts) {
  std::vector<int> blocks;
  for (int start : starts) {
    for (int b : block_group(config, start)) blocks.push_back(b);
  }
  return blocks;
}

}  // namespace vitc
