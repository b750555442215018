// Shared by the --round-to tests of every method: a Structure's kept widths on the grid.
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "model/structure.h"

namespace vitc::test {

inline bool on_grid(size_t kept, int full, int multiple) {
  return static_cast<int>(kept) == full || kept % static_cast<size_t>(multiple) == 0;
}

// Every kept head's v (and, with `qk`, q/k) width and every block's MLP width is a multiple of
// `multiple` or the full width; `what` names the case in failures.
inline void expect_widths_on_grid(const Structure& s, const ViTConfig& source, int multiple,
                                  bool qk, const std::string& what) {
  for (size_t l = 0; l < s.blocks.size(); ++l) {
    const BlockKeep& b = s.blocks[l];
    if (b.skip) continue;
    const BlockSpec& spec = source.blocks[l];
    for (const HeadKeep& h : b.heads) {
      EXPECT_TRUE(on_grid(h.v.size(), spec.heads[static_cast<size_t>(h.source)].v_dim, multiple))
          << what << ": block " << l << " head " << h.source << " keeps " << h.v.size() << " v dims";
      if (qk) {
        EXPECT_TRUE(on_grid(h.qk.size(), spec.heads[static_cast<size_t>(h.source)].qk_dim, multiple))
            << what << ": block " << l << " head " << h.source << " keeps " << h.qk.size()
            << " q/k dims";
      }
    }
    EXPECT_TRUE(b.mlp.empty() || on_grid(b.mlp.size(), spec.mlp_hidden, multiple))
        << what << ": block " << l << " keeps " << b.mlp.size() << " MLP neurons";
  }
}

}  // namespace vitc::test
