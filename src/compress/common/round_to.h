// --round-to N: every method's kept head widths and MLP widths become multiples of N, so that a
// compact model computes GEMMs of aligned sizes (8 for GPU tensor cores, 16 for AVX-512 CPUs:
// docs/slicing_benchmark.md measured widths costing as their next multiple of 16, and UVC's and
// ViT-Slim's outputs 6-14% faster at the same MACs budget with 16). What to keep stays the
// method's choice (its own scores decide which entries fill or leave a rounded width), and each
// method meets its MACs budget with the rounded widths.
//
// Of a part whose full width is W, the kept widths allowed are N, 2N, ... up to W, and W itself
// when W is not a multiple of N (an unpruned part stays whole). Width 0 (the part removed: a head,
// an MLP) is allowed only where the method may remove the part.
#pragma once

#include <vector>

#include "util/settings.h"

namespace vitc {

namespace setting {
inline const Setting kRoundTo{
    "round-to",
    "kept head widths and MLP widths become multiples of N (8 for GPU tensor cores; 16 on AVX-512 "
    "CPUs, where a width costs as its next multiple of 16; a part whose full width is not a "
    "multiple stays whole or is narrowed to a multiple); 1 = any width",
    Range::at_least(1), nullptr, /*prefixed=*/false};
}  // namespace setting

class RoundTo {
 public:
  explicit RoundTo(int multiple = 1);  // refuses a multiple below 1, naming --round-to
  int multiple() const { return multiple_; }
  bool any_width() const { return multiple_ == 1; }

  // Whether `kept` of `full` is allowed (0 counts as allowed only with `zero_allowed`).
  bool allows(int kept, int full, bool zero_allowed = false) const;
  // The smallest allowed width above 0: min(N, full).
  int smallest(int full) const;
  // The allowed width nearest `kept` in [0, full] (ties: the larger). Without `zero_allowed` the
  // result is at least smallest(full).
  int nearest(int kept, int full, bool zero_allowed = false) const;
  // The largest allowed width at most `kept` (0 if none and `zero_allowed`, else smallest(full)).
  int at_most(int kept, int full, bool zero_allowed = false) const;
  // The next allowed width above / below `kept`, or -1 if there is none (below: 0 is returned
  // only with `zero_allowed`).
  int next_above(int kept, int full) const;
  int next_below(int kept, int full, bool zero_allowed = false) const;

 private:
  int multiple_;
};

// `kept` (entry indices, any order) resized to `count` entries: grown by the highest-scored
// entries not kept, or shrunk by dropping the lowest-scored kept ones (ties: the lower index ranks
// higher). `scores` holds every entry's score. Returns the indices sorted.
std::vector<int> resize_kept(const std::vector<int>& kept, const std::vector<double>& scores,
                             int count);

}  // namespace vitc
