// The candidate range of the few-shot methods, checked against the model's depth.
#include "compress/common/candidate_blocks.h"

#include "util/error.h"

namespace vitc {

std::vector<int> candidate_blocks(const ViTConfig& config, int first, int last) {
  // PRACTISE and DC-ViT mimic the teacher's features token by token.
  check_keeps_every_token(config, "block removal by feature mimicking (PRACTISE, DC-ViT)");
  const int depth = config.depth();
  if (first < 0) first = depth > 2 ? 1 : 0;
  if (last < 0) last = depth > 2 ? depth - 2 : depth - 1;
  check(first < depth, "--min-block ", first, " is outside the ", depth, " blocks of '",
        config.name, "'");
  check(last < depth && last >= first, "--max-block ", last, " must lie in [--min-block ", first,
        ", ", depth - 1, "]");
  std::vector<int> out;
  for (int b = first; b <= last; ++b) out.push_back(b);
  return out;
}

}  // namespace vitc
