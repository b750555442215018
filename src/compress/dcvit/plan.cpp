// Dense targets: (k, MLP width) from MACs or parameters, with exact counts and the reference's
// rounding.
#include "compress/dcvit/plan.h"

#include <cmath>
#include <cstdlib>
#include <utility>

#include <nlohmann/json.hpp>

#include "compress/common/latency_model.h"
#include "compress/common/round_to.h"
#include "model/block_groups.h"
#include "model/complexity.h"
#include "util/error.h"

namespace vitc {

double DcvitPlan::mlp_ratio() const {
  return embed_dim > 0 ? static_cast<double>(hidden) / embed_dim : 0.0;
}

double DcvitPlan::relative_error() const {
  return target > 0 ? static_cast<double>(cost - target) / static_cast<double>(target) : 0.0;
}

nlohmann::json DcvitPlan::to_json() const {
  const std::string key = resource_key(resource);
  return {{"blocks", blocks},
          {"hidden", hidden},
          {"source_hidden", source_hidden},
          {"round_to", round_to},
          {"mlp_ratio", mlp_ratio()},
          {"valid_blocks", {min_blocks, max_blocks}},
          {"resource", key},
          {"target_" + key, target},
          {"teacher_" + key, teacher_cost},
          {key, cost},
          {key + "_fraction", static_cast<double>(cost) / static_cast<double>(teacher_cost)},
          {"relative_error", relative_error()},
          {"attn_" + key + "_per_block", attn_cost},
          {"mlp_" + key + "_per_block", mlp_cost},
          {"neuron_" + key + "_per_block", neuron_cost},
          {"mlp_fixed_" + key + "_per_block", mlp_fixed_cost}};
}

namespace {

std::string pct(int64_t part, int64_t whole) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f%%", 100.0 * static_cast<double>(part) / whole);
  return text;
}

}  // namespace

DcvitPlan plan_dense_target(const ViTConfig& teacher, const std::vector<int>& candidates,
                            const CostModel& cost, int64_t target, int blocks, double tolerance,
                            int round_to) {
  const Resource resource = cost.resource();
  const std::string unit = resource_name(resource);
  check(!candidates.empty(), "DC-ViT needs at least one candidate block");
  check(tolerance > 0, unit, " tolerance must be positive, got ", tolerance);
  const Complexity full = compute_complexity(teacher);
  DcvitPlan plan;
  plan.round_to = round_to;
  plan.resource = resource;
  plan.teacher_cost = source_cost(teacher, cost);
  plan.target = target;
  // A candidate is a block group (model/block_groups.h): one block, or a Swin's pair.
  const std::vector<int> first_group = block_group(teacher, candidates.front());
  const BlockSpec& first = teacher.blocks[static_cast<size_t>(candidates.front())];
  for (int c : candidates) {
    check(c >= 0 && c < teacher.depth(), "candidate block ", c, " is outside [0, ",
          teacher.depth(), ")");
    const std::vector<int> group = block_group(teacher, c);
    check(group.size() == first_group.size(), "DC-ViT: candidates ", join(first_group), " and ",
          join(group), " of '", teacher.name, "' differ in size");
    for (int b : group) {
      const BlockSpec& spec = teacher.blocks[static_cast<size_t>(b)];
      check(spec.has_attention() && spec.has_mlp(), "DC-ViT: candidate block ", b, " of '",
            teacher.name, "' has no attention or no MLP left to compress");
      check(spec == first, "DC-ViT: candidate blocks ", candidates.front(), " and ", b, " of '",
            teacher.name, "' differ in size; DC-ViT's (k, MLP width) rule needs equal blocks "
            "(narrow the candidates with --min-block/--max-block)");
    }
  }
  const int H = first.mlp_hidden;
  // a and m of one candidate: its blocks' attention branches and MLPs (equal blocks, so a
  // group's blocks lose the same neurons); a neuron's cost from the same blocks one neuron
  // narrower, the rest of m being the MLP's fixed cost.
  const auto attn_and_mlp = [&](const Complexity& c) {
    int64_t a = 0, m = 0;
    for (int b : first_group) {
      const BlockComplexity& block = c.blocks[static_cast<size_t>(b)];
      a += resource == Resource::macs ? block.attn_macs : block.attn_params;
      m += resource == Resource::macs ? block.mlp_macs : block.mlp_params;
    }
    return std::pair<int64_t, int64_t>{a, m};
  };
  int64_t a = 0, m = 0, per_neuron = 0;
  if (resource == Resource::latency) {
    for (int b : first_group) {
      const LatencyModel::Affine block = cost.latency_model().block_affine(teacher, b);
      const BlockSpec& spec = teacher.blocks[static_cast<size_t>(b)];
      a += latency_ms_to_ps(block.attention_fixed + block.per_head * spec.heads.size() +
                            block.per_qk_dim * spec.qk_total() + block.per_v_dim * spec.v_total());
      per_neuron += latency_ms_to_ps(block.per_neuron);
      m += latency_ms_to_ps(block.fixed - block.attention_fixed);  // MLP and block fixed parts
    }
    m += H * per_neuron;
  } else {
    const std::pair<int64_t, int64_t> dense_costs = attn_and_mlp(full);
    a = dense_costs.first;
    m = dense_costs.second;
    per_neuron = m / H;
    if (H > 1) {
      Structure narrower = dense_structure(teacher);
      for (int b : first_group) narrower.blocks[static_cast<size_t>(b)].mlp.pop_back();
      per_neuron = m - attn_and_mlp(compute_complexity(compact_config(teacher, narrower))).second;
    }
  }
  const int64_t fixed = m - H * per_neuron;
  check(per_neuron > 0 && fixed >= 0, "internal: MLP ", unit, " ", m, " of width ", H,
        " are not a fixed part plus a cost per neuron (", per_neuron, ")");
  plan.attn_cost = a;
  plan.mlp_cost = m;
  plan.neuron_cost = per_neuron;
  plan.mlp_fixed_cost = fixed;
  plan.source_hidden = H;
  plan.embed_dim = teacher.block_dim(candidates.front());
  const auto mlp_at = [&](int width) { return width > 0 ? fixed + width * per_neuron : int64_t{0}; };
  const auto cost_at = [&](int k, int width) {
    return plan.teacher_cost - k * a - static_cast<int64_t>(k) * (m - mlp_at(width));
  };
  const int n = static_cast<int>(candidates.size());
  const int64_t removed = plan.teacher_cost - target;
  const int64_t smallest = plan.teacher_cost - static_cast<int64_t>(n) * (a + m);
  const auto amount = [resource](int64_t x) { return amount_text(x, resource); };
  const std::string span = str_cat(
      amount(smallest), " ", unit, " (",
      pct(smallest, plan.teacher_cost), ", all ", n, " candidates removed) and ",
      amount(plan.teacher_cost - a), " ", unit, " (",
      pct(plan.teacher_cost - a, plan.teacher_cost), ", one candidate's attention removed), within ",
      tolerance * 100, "%");
  const std::string range = "reachable targets lie between " + span;
  check(target > 0 && removed > 0, unit, " target ", amount(target), " is not below the teacher's ",
        amount(plan.teacher_cost), " ", unit, ": nothing to compress; ", range);
  auto finish = [&](int k, int hidden) {
    plan.blocks = k;
    plan.hidden = hidden;
    plan.cost = cost_at(k, hidden);
    // The plans either side: one neuron more or less, or (at width 0) the block kept with one.
    const int other = hidden > 0 ? hidden - 1 : std::min(H, 1);
    check(std::abs(plan.relative_error()) <= tolerance, unit, " target ", amount(target), " (",
          pct(target, plan.teacher_cost), " of the teacher) cannot be met within ",
          tolerance * 100, "%: compressing ", k, " blocks to MLP width ", hidden, " gives ",
          amount(plan.cost), " ", unit, ", to width ", other, " ", amount(cost_at(k, other)),
          " (", pct(cost_at(k, other), plan.teacher_cost), "); the (k, width) rule's targets span ",
          span);
    return plan;
  };
  if (removed < a) {  // less than one attention branch: only reachable within the tolerance
    plan.min_blocks = plan.max_blocks = 1;
    check(blocks == 0 || blocks == 1, "--blocks ", blocks, " is impossible for target ", target,
          ": removing less than one attention branch allows only 1 block");
    return finish(1, H);
  }
  plan.min_blocks = static_cast<int>((removed + a + m - 1) / (a + m));
  plan.max_blocks = static_cast<int>(std::min<int64_t>(removed / a, n));
  check(plan.min_blocks <= n, unit, " target ", target, " (", pct(target, plan.teacher_cost),
        " of the teacher) is unreachable with ", n, " candidate blocks; ", range);
  int k = plan.min_blocks;
  if (blocks > 0) {
    check(blocks >= plan.min_blocks && blocks <= plan.max_blocks, "--blocks ", blocks,
          " is impossible for target ", target, ": it must lie in [", plan.min_blocks, ", ",
          plan.max_blocks, "] (at least ceil(dM/(a+m)), at most floor(dM/a) and the ", n,
          " candidates)");
    k = blocks;
  }
  // What one candidate's MLPs may keep; the width truncated as the reference's int() does.
  const double kept_mlp =
      static_cast<double>(m) -
      static_cast<double>(removed - k * a) / static_cast<double>(k);
  int hidden = kept_mlp <= static_cast<double>(fixed)
                   ? 0
                   : static_cast<int>(std::floor((kept_mlp - static_cast<double>(fixed)) /
                                                     static_cast<double>(per_neuron) +
                                                 1e-9));
  hidden = std::max(0, std::min(H, hidden));
  // An MLP with a fixed cost (parameters: norm2 and fc2's bias; latency: its dispatch) jumps from
  // width 0 (the block gone) to 1 by more than a neuron: keep the width of the two whose cost is
  // nearer the target.
  if (hidden == 0 && fixed > 0 && H >= 1 &&
      std::llabs(cost_at(k, 1) - target) < std::llabs(cost_at(k, 0) - target)) {
    hidden = 1;
  }
  const RoundTo grid(round_to);
  if (!grid.allows(hidden, H, /*zero_allowed=*/true)) {
    // The widths on the grid either side; the one whose cost is nearer the target.
    const int below = grid.at_most(hidden, H, true), above = grid.next_above(hidden, H);
    hidden = above >= 0 && std::llabs(cost_at(k, above) - target) <
                               std::llabs(cost_at(k, below) - target)
                 ? above
                 : below;
  }
  return finish(k, hidden);
}

Structure dcvit_structure(const ViTConfig& teacher, const std::map<int, std::vector<int>>& kept) {
  Structure s = dense_structure(teacher);
  for (const auto& [block, neurons] : kept) {
    check(block >= 0 && block < teacher.depth(), "DC-ViT: block ", block, " is outside [0, ",
          teacher.depth(), ")");
    BlockKeep& b = s.blocks[static_cast<size_t>(block)];
    b.attn_skip = true;
    b.heads.clear();
    b.mlp = neurons;
  }
  s = normalize_structure(s);
  validate_structure(s, teacher);
  return s;
}

}  // namespace vitc
