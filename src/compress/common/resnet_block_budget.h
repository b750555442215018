// Whole-block budgets of ResNets, shared by the CNN methods that drop blocks (PRACTISE, DC-ViT,
// random block drop): the MACs without some blocks, and the fewest blocks, taken in a ranking's
// order, that meet a MACs or parameter target.
#pragma once

#include <cstdint>
#include <vector>

#include "compress/common/budget.h"
#include "model/families/resnet/resnet_config.h"

namespace vitc {

// The droppable blocks (every block but a stage's first) among blocks first..last (-1: from the
// first / to the last block); refused naming the range when there is none.
std::vector<int> resnet_candidates(const ResNetConfig& config, int first, int last);

// MACs (parameters) of `config` without the `dropped` blocks (each droppable).
int64_t resnet_macs_without(const ResNetConfig& config, const std::vector<int>& dropped);
int64_t resnet_cost_without(const ResNetConfig& config, const std::vector<int>& dropped,
                            Resource resource);
int64_t resnet_amount(const ResNetConfig& config, Resource resource);  // of the whole network

// The fewest blocks, taken in `order`, whose removal brings the model to at most target *
// (1 + tolerance) MACs or parameters. A target that even dropping every block of `order` cannot
// reach is refused, naming what dropping 1, 2, ... of them in that order reaches.
int resnet_drops_for_budget(const ResNetConfig& config, const std::vector<int>& order,
                            Resource resource, int64_t target, double tolerance = 0.01);

}  // namespace vitc
