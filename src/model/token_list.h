// Token lists (BlockSpec::tokens, BlockKeep::tokens): the one check of a list against the patches
// still alive, and the positions of kept patches among those reaching a block.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vitc {

// Checks that `kept` lists patch positions in [0, alive.size()), strictly increasing, each still
// alive (kept tokens are nested), and returns the patches alive after it. Errors start with
// `field` (e.g. "config 'fm_tiny': blocks[3].tokens") and name the list index and position.
std::vector<bool> check_token_list(const std::vector<int>& kept, const std::vector<bool>& alive,
                                   const std::string& field);

// Where each of `kept` sits in `reaching` (both strictly increasing, kept a subset of reaching).
std::vector<int64_t> positions_within(const std::vector<int>& kept,
                                      const std::vector<int>& reaching);

}  // namespace vitc
