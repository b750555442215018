// Dense targets: (k, MLP width) from MACs, with exact MACs and the reference's rounding.
#include "compress/dcvit/plan.h"

#include <cmath>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "compress/common/round_to.h"
#include "model/block_groups.h"
#include "model/complexity.h"
#include "util/error.h"

namespace vitc {

double DcvitPlan::mlp_ratio() const {
  return embed_dim > 0 ? static_cast<double>(hidden) / embed_dim : 0.0;
}

double DcvitPlan::relative_error() const {
  return target > 0 ? static_cast<double>(macs - target) / static_cast<double>(target) : 0.0;
}

nlohmann::json DcvitPlan::to_json() const {
  return {{"blocks", blocks},
          {"hidden", hidden},
          {"source_hidden", source_hidden},
          {"round_to", round_to},
          {"mlp_ratio", mlp_ratio()},
          {"valid_blocks", {min_blocks, max_blocks}},
          {"target_macs", target},
          {"teacher_macs", teacher_macs},
          {"macs", macs},
          {"macs_fraction", static_cast<double>(macs) / static_cast<double>(teacher_macs)},
          {"relative_error", relative_error()},
          {"attn_macs_per_block", attn_macs},
          {"mlp_macs_per_block", mlp_macs}};
}

namespace {

std::string pct(int64_t part, int64_t whole) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f%%", 100.0 * static_cast<double>(part) / whole);
  return text;
}

}  // namespace

DcvitPlan plan_dense_target(const ViTConfig& teacher, const std::vector<int>& candidates,
                            int64_t target, int blocks, double tolerance, int round_to) {
  check(!candidates.empty(), "DC-ViT needs at least one candidate block");
  check(tolerance > 0, "MACs tolerance must be positive, got ", tolerance);
  const Complexity full = compute_complexity(teacher);
  DcvitPlan plan;
  plan.round_to = round_to;
  plan.teacher_macs = full.macs();
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
  // a and m of one candidate: its blocks' attention branches and MLPs (equal blocks, so a
  // group's blocks lose the same neurons).
  int64_t a = 0, m = 0;
  for (int b : first_group) {
    a += full.blocks[static_cast<size_t>(b)].attn_macs;
    m += full.blocks[static_cast<size_t>(b)].mlp_macs;
  }
  const int H = first.mlp_hidden;
  check(m % H == 0, "internal: MLP MACs ", m, " are not a multiple of the width ", H);
  const int64_t per_neuron = m / H;
  plan.attn_macs = a;
  plan.mlp_macs = m;
  plan.source_hidden = H;
  plan.embed_dim = teacher.block_dim(candidates.front());
  const int n = static_cast<int>(candidates.size());
  const int64_t removed = plan.teacher_macs - target;
  const int64_t smallest = plan.teacher_macs - static_cast<int64_t>(n) * (a + m);
  const std::string range = str_cat(
      "reachable targets lie between ", smallest, " MACs (", pct(smallest, plan.teacher_macs),
      ", all ", n, " candidates removed) and ", plan.teacher_macs - a, " MACs (",
      pct(plan.teacher_macs - a, plan.teacher_macs), ", one candidate's attention removed), within ",
      tolerance * 100, "%");
  check(target > 0 && removed > 0, "MACs target ", target, " is not below the teacher's ",
        plan.teacher_macs, " MACs: nothing to compress; ", range);
  auto finish = [&](int k, int hidden) {
    plan.blocks = k;
    plan.hidden = hidden;
    plan.macs = plan.teacher_macs - k * a - static_cast<int64_t>(k) * (H - hidden) * per_neuron;
    check(std::abs(plan.relative_error()) <= tolerance, "MACs target ", target, " (",
          pct(target, plan.teacher_macs), " of the teacher) cannot be met within ",
          tolerance * 100, "%: compressing ", k, " blocks to MLP width ", hidden, " gives ",
          plan.macs, " MACs; ", range);
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
  check(plan.min_blocks <= n, "MACs target ", target, " (", pct(target, plan.teacher_macs),
        " of the teacher) is unreachable with ", n, " candidate blocks; ", range);
  int k = plan.min_blocks;
  if (blocks > 0) {
    check(blocks >= plan.min_blocks && blocks <= plan.max_blocks, "--blocks ", blocks,
          " is impossible for target ", target, ": it must lie in [", plan.min_blocks, ", ",
          plan.max_blocks, "] (at least ceil(dM/(a+m)), at most floor(dM/a) and the ", n,
          " candidates)");
    k = blocks;
  }
  // Width removed per block; truncating the kept width as the reference's int() does.
  const double remove_fraction =
      static_cast<double>(removed - k * a) / (static_cast<double>(k) * static_cast<double>(m));
  int hidden = static_cast<int>(std::floor(H * (1.0 - remove_fraction) + 1e-9));
  hidden = std::max(0, std::min(H, hidden));
  const RoundTo grid(round_to);
  if (!grid.allows(hidden, H, /*zero_allowed=*/true)) {
    // The widths on the grid either side; the one whose MACs are nearer the target.
    const int below = grid.at_most(hidden, H, true), above = grid.next_above(hidden, H);
    const auto macs_at = [&](int width) {
      return plan.teacher_macs - k * a - static_cast<int64_t>(k) * (H - width) * per_neuron;
    };
    hidden = above >= 0 && std::llabs(macs_at(above) - target) < std::llabs(macs_at(below) - target)
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
