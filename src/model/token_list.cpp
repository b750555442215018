// The nested-token-list check and the kept patches' positions among those reaching a block.
#include "model/token_list.h"

#include "util/error.h"

namespace vitc {

std::vector<bool> check_token_list(const std::vector<int>& kept, const std::vector<bool>& alive,
                                   const std::string& field) {
  const int patches = static_cast<int>(alive.size());
  std::vector<bool> next(alive.size(), false);
  int previous = -1;
  for (size_t t = 0; t < kept.size(); ++t) {
    const int p = kept[t];
    check(p >= 0 && p < patches, field, "[", t, "]: patch position ", p, " out of range [0, ",
          patches, ") (the cls/dist tokens are always kept and not listed)");
    check(p > previous, field, "[", t, "]: patch position ", p, " after ", previous,
          "; positions must be strictly increasing");
    check(alive[static_cast<size_t>(p)], field, "[", t, "]: patch position ", p,
          " was dropped by an earlier block; a dropped token cannot come back (kept tokens are "
          "nested)");
    next[static_cast<size_t>(p)] = true;
    previous = p;
  }
  return next;
}

std::vector<int64_t> positions_within(const std::vector<int>& kept,
                                      const std::vector<int>& reaching) {
  std::vector<int64_t> positions;
  positions.reserve(kept.size());
  size_t r = 0;
  for (int p : kept) {
    while (reaching.at(r) != p) ++r;
    positions.push_back(static_cast<int64_t>(r));
  }
  return positions;
}

}  // namespace vitc
