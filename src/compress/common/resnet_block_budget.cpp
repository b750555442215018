// Whole-block MACs budgets of ResNets.
#include "compress/common/resnet_block_budget.h"

#include <string>

#include "model/families/resnet/resnet_complexity.h"
#include "model/families/resnet/resnet_structure.h"
#include "util/error.h"

namespace vitc {

std::vector<int> resnet_candidates(const ResNetConfig& c, int first_block, int last_block) {
  const int first = first_block < 0 ? 0 : first_block;
  const int last = last_block < 0 ? c.depth() - 1 : last_block;
  check(first <= last && last < c.depth(), "--min-block ", first_block, " / --max-block ",
        last_block, " do not name a range of the ", c.depth(), " blocks of '", c.name, "'");
  std::vector<int> candidates;
  for (int b = first; b <= last; ++b) {
    if (resnet_block_droppable(c, b)) candidates.push_back(b);
  }
  check(!candidates.empty(), "no droppable block in blocks ", first, "..", last, " of '", c.name,
        "' (a stage's first block cannot be dropped)");
  return candidates;
}

int64_t resnet_amount(const ResNetConfig& config, Resource resource) {
  check(resource != Resource::latency, "--latency budgets are measured per transformer block; for "
        "the ResNet '", config.name, "' give --macs or --params");
  const ResNetCost cost = resnet_cost(config);
  return resource == Resource::macs ? cost.macs : cost.params;
}

int64_t resnet_cost_without(const ResNetConfig& config, const std::vector<int>& dropped,
                            Resource resource) {
  return resnet_amount(
      compact_resnet_config(config, drop_resnet_blocks(config, full_resnet_structure(config), dropped)),
      resource);
}

int64_t resnet_macs_without(const ResNetConfig& config, const std::vector<int>& dropped) {
  return resnet_cost_without(config, dropped, Resource::macs);
}

int resnet_drops_for_budget(const ResNetConfig& config, const std::vector<int>& order,
                            Resource resource, int64_t target, double tolerance) {
  const std::string unit = resource_name(resource);
  check(target > 0, "the ", unit, " target must be positive, got ", target);
  const double limit = static_cast<double>(target) * (1.0 + tolerance);
  if (resnet_amount(config, resource) <= limit) return 0;
  std::vector<int> dropped;
  std::vector<std::string> reachable;
  for (int b : order) {
    dropped.push_back(b);
    const int64_t amount = resnet_cost_without(config, dropped, resource);
    if (amount <= limit) return static_cast<int>(dropped.size());
    reachable.push_back(str_cat(dropped.size(), ": ", amount));
  }
  fail("a ", unit, " target of ", target, " is not reachable by dropping whole blocks of '",
       config.name, "' (", resnet_amount(config, resource), " ", unit,
       "); dropping 1, 2, ... candidates in order reaches ", join(reachable, ", "), " ", unit,
       ": raise the target to at least ", resnet_cost_without(config, dropped, resource));
}

}  // namespace vitc
