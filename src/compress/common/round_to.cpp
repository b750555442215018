// Kept widths on the --round-to grid, and resizing a kept set by the method's scores.
#include "compress/common/round_to.h"

#include <algorithm>
#include <numeric>

#include "util/error.h"

namespace vitc {

RoundTo::RoundTo(int multiple) : multiple_(multiple) {
  check(multiple >= 1, "--round-to must be a positive integer, got ", multiple);
}

bool RoundTo::allows(int kept, int full, bool zero_allowed) const {
  if (kept == 0) return zero_allowed;
  return kept > 0 && kept <= full && (kept == full || kept % multiple_ == 0);
}

int RoundTo::smallest(int full) const { return std::min(multiple_, full); }

int RoundTo::at_most(int kept, int full, bool zero_allowed) const {
  kept = std::clamp(kept, 0, full);
  if (allows(kept, full, zero_allowed)) return kept;
  const int down = kept / multiple_ * multiple_;
  if (down > 0) return down;
  return zero_allowed ? 0 : smallest(full);
}

int RoundTo::next_above(int kept, int full) const {
  if (kept >= full) return -1;
  const int up = (std::max(kept, 0) / multiple_ + 1) * multiple_;
  return std::min(up, full);
}

int RoundTo::next_below(int kept, int full, bool zero_allowed) const {
  kept = std::min(kept, full);
  if (kept <= 0) return -1;
  const int down = (kept - 1) / multiple_ * multiple_;
  if (down > 0) return down;
  return zero_allowed ? 0 : -1;
}

int RoundTo::nearest(int kept, int full, bool zero_allowed) const {
  kept = std::clamp(kept, 0, full);
  if (allows(kept, full, zero_allowed)) return kept;
  const int below = next_below(kept, full, zero_allowed);
  const int above = next_above(kept, full);
  if (below < 0) return above;
  if (above < 0) return below;
  return kept - below < above - kept ? below : above;
}

std::vector<int> resize_kept(const std::vector<int>& kept, const std::vector<double>& scores,
                             int count) {
  const int n = static_cast<int>(scores.size());
  check(count >= 0 && count <= n, "resize_kept: cannot keep ", count, " of ", n, " entries");
  std::vector<bool> is_kept(scores.size(), false);
  for (int i : kept) {
    check(i >= 0 && i < n, "resize_kept: entry ", i, " out of range [0, ", n, ")");
    is_kept[static_cast<size_t>(i)] = true;
  }
  // Ranked: kept entries first, each part by descending score; the first `count` stay.
  std::vector<int> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    if (is_kept[a] != is_kept[b]) return static_cast<bool>(is_kept[a]);
    return scores[a] > scores[b];
  });
  std::vector<int> out(order.begin(), order.begin() + count);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace vitc
