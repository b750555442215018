// Meeting the budget exactly: single-unit count moves ordered by the learned fractions.
#include "compress/uvc/repair.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "compress/common/round_to.h"
#include "model/complexity.h"
#include "util/error.h"

namespace vitc {

double Repair::relative_error() const {
  return target > 0 ? static_cast<double>(cost - target) / static_cast<double>(target) : 0.0;
}

namespace {

// One pruning count: which block/kind/head, its learned fraction and bound.
struct Var {
  int block, kind, head;  // kind 0 heads, 1 MLP, 2 v dims of `head`
  double fraction;
  int bound;
};

class Projector {
 public:
  Projector(const UvcGeometry& g, const UvcState& st, const GroupScores& scores,
            const RoundTo& grid)
      : g_(g), grid_(grid), head_order_(head_order(g, scores)) {
    for (int l = 0; l < g.depth; ++l) {
      const UvcBlock& u = g.blocks[static_cast<size_t>(l)];
      vars_.push_back({l, 0, -1, st.s[l][0].item<double>(), u.heads});
      vars_.push_back({l, 1, -1, st.s[l][1].item<double>(), u.mlp_hidden});
      for (int h = 0; h < u.heads; ++h) vars_.push_back({l, 2, h, st.r[l][h].item<double>(), u.head_dim});
    }
  }

  int& count(UvcDecision& d, const Var& v) const {
    return v.kind == 0 ? d.counts.heads[v.block]
                       : v.kind == 1 ? d.counts.mlp[v.block] : d.counts.dims[v.block][v.head];
  }

  int64_t cost(const UvcDecision& d) const { return decision_cost(g_, d, head_order_); }

  // Every count of a kept block at its largest (at_max: one head, the grid's smallest width of
  // v dims and neurons kept) or 0.
  UvcDecision with_all_counts(const UvcDecision& d, bool at_max) const {
    UvcDecision out = d;
    for (const Var& v : vars_) count(out, v) = at_max ? v.bound - smallest_kept(v) : 0;
    return out;
  }

  // The learned counts with every kept width moved to the nearest on the --round-to grid.
  UvcDecision on_grid(const UvcDecision& d) const {
    UvcDecision out = d;
    for (const Var& v : vars_)
      if (v.kind != 0) count(out, v) = v.bound - grid_.nearest(v.bound - count(out, v), v.bound);
    return out;
  }

  // The count one step from `c` (pruning more or less), or -1 at the end: heads move by one,
  // v dims and neurons to the next kept width on the grid (by one without --round-to).
  int step(const Var& v, int c, bool more) const {
    if (v.kind == 0) return more ? (c + 1 < v.bound ? c + 1 : -1) : (c > 0 ? c - 1 : -1);
    const int kept = more ? grid_.next_below(v.bound - c, v.bound) : grid_.next_above(v.bound - c, v.bound);
    return kept < 0 ? -1 : v.bound - kept;
  }

  // The next single-step move in one direction: the variable whose fraction, shifted by a common
  // offset t, crosses its next step first (smallest t when pruning more, largest t when pruning
  // less). `fine_only` restricts to MLP neurons and v dims. Returns -1 if none.
  int next_move(const UvcDecision& d, bool more, bool fine_only,
                const std::vector<bool>& excluded) const {
    int best = -1;
    double best_t = more ? std::numeric_limits<double>::infinity()
                         : -std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < vars_.size(); ++i) {
      const Var& v = vars_[i];
      if (excluded[i] || d.skip[v.block] || (fine_only && v.kind == 0)) continue;
      if (v.kind == 2 && head_pruned(d, v.block, v.head)) continue;  // costs nothing either way
      const int c = count(const_cast<UvcDecision&>(d), v);
      const int next = step(v, c, more);
      if (next < 0) continue;
      // The step from c to c + 1 sits at fraction (c + 1/2) / bound (from c to next: their
      // midpoint): rounding, not ceil, so that fractions at 0 do not all take their first unit
      // at once (a head of every block).
      const double t = 0.5 * (c + next) / static_cast<double>(v.bound) - v.fraction;
      if (more ? t < best_t : t > best_t) best_t = t, best = static_cast<int>(i);
    }
    return best;
  }

  bool head_pruned(const UvcDecision& d, int block, int head) const {
    for (int i = 0; i < d.counts.heads[block]; ++i)
      if (head_order_[block][i] == head) return true;
    return false;
  }

  const std::vector<Var>& vars() const { return vars_; }

  // Applies the step of variable i (next_move's answer).
  void move(UvcDecision& d, int i, bool more) const {
    int& c = count(d, vars_[static_cast<size_t>(i)]);
    c = step(vars_[static_cast<size_t>(i)], c, more);
  }

 private:
  int smallest_kept(const Var& v) const { return v.kind == 0 ? 1 : grid_.smallest(v.bound); }

  const UvcGeometry& g_;
  const RoundTo& grid_;
  std::vector<std::vector<int>> head_order_;
  std::vector<Var> vars_;
};

}  // namespace

Repair meet_budget(const ViTConfig& source, const UvcGeometry& g, const UvcState& st,
                   const GroupScores& scores, int64_t target, double tolerance, int round_to) {
  const RoundTo grid(round_to);
  const std::string unit = resource_name(g.resource);
  check(tolerance > 0, unit, " tolerance must be positive, got ", tolerance);
  const int64_t dense = g.dense_cost();
  const auto amount = [&g](int64_t a) { return amount_text(a, g.resource); };
  check(target > 0 && target <= dense, "UVC budget: target ", amount(target), " ", unit,
        " is not in (0, ", amount(dense), "], the teacher's ", unit);
  check(target >= g.fixed_cost * (1.0 + tolerance), "UVC budget: target ", amount(target), " ",
        unit, " is unreachable: patch embedding and head alone cost ", amount(g.fixed_cost));
  Repair rep;
  rep.target = target;
  rep.learned = current_decision(st, g);
  Projector proj(g, st, scores, grid);
  rep.learned_cost = proj.cost(rep.learned);
  UvcDecision d = proj.on_grid(rep.learned);

  // Gates first, only where the counts cannot reach the target: skip the kept block the gates
  // like least, or restore the skipped block they like most.
  std::vector<double> margin;
  for (int l = 0; l < g.depth; ++l)
    margin.push_back(st.gates[l][1].item<double>() - st.gates[l][0].item<double>());
  for (int round = 0; round <= g.depth; ++round) {
    const int64_t least = proj.cost(proj.with_all_counts(d, true));
    const int64_t most = proj.cost(proj.with_all_counts(d, false));
    int pick = -1;
    if (least > target) {
      for (int l = 0; l < g.depth; ++l)
        if (!d.skip[l] && (pick < 0 || margin[l] < margin[pick])) pick = l;
      check(pick >= 0, "UVC budget: target ", target, " ", unit, " is unreachable");
      d.skip[pick] = true;
      rep.skipped_by_repair.push_back(pick);
    } else if (static_cast<double>(most) < target * (1.0 - tolerance / 2)) {
      for (int l = 0; l < g.depth; ++l)
        if (d.skip[l] && (pick < 0 || margin[l] > margin[pick])) pick = l;
      if (pick < 0) break;  // everything kept and dense: cannot grow further
      d.skip[pick] = false;
      rep.restored_by_repair.push_back(pick);
    } else {
      break;
    }
  }

  const std::vector<bool> none(proj.vars().size(), false);
  int64_t cost = proj.cost(d);
  if (cost > target) {
    while (cost > target) {
      const int i = proj.next_move(d, /*more=*/true, false, none);
      check(i >= 0, "UVC budget: cannot prune below ", cost, " ", unit, " (target ", target, ")");
      proj.move(d, i, /*more=*/true);
      cost = proj.cost(d);
      ++rep.steps;
    }
  } else {
    for (;;) {
      const int i = proj.next_move(d, /*more=*/false, false, none);
      if (i < 0) break;
      const UvcDecision before = d;
      proj.move(d, i, /*more=*/false);
      const int64_t grown = proj.cost(d);
      if (grown > target) {
        d = before;
        break;
      }
      cost = grown;
      ++rep.steps;
    }
  }
  // Fill what a coarse step (a whole head) left below the target with single neurons / v dims.
  std::vector<bool> excluded(proj.vars().size(), false);
  for (;;) {
    const int i = proj.next_move(d, /*more=*/false, /*fine_only=*/true, excluded);
    if (i < 0) break;
    const UvcDecision before = d;
    proj.move(d, i, /*more=*/false);
    const int64_t grown = proj.cost(d);
    if (grown > target) {
      d = before;
      excluded[i] = true;  // this unit does not fit; smaller ones elsewhere may
      continue;
    }
    cost = grown;
    ++rep.steps;
  }

  rep.decision = d;
  rep.structure = normalize_structure(decision_structure(source, g, d, scores));
  if (g.resource == Resource::latency) {
    // The table's full prediction also counts how the uneven heads are computed (groups or
    // padding), which the affine costs leave out; both are recorded and reported.
    rep.cost = cost;
    rep.table_cost = compact_cost(source, rep.structure, g.cost);
  } else {
    rep.cost = compact_cost(source, rep.structure, g.cost);
    check(rep.cost == cost, "UVC budget: internal ", unit, " count ", cost,
          " disagrees with the compact model's ", rep.cost);
  }
  check(std::abs(rep.relative_error()) <= tolerance, "UVC budget: the nearest configuration has ",
        amount_text(rep.cost, g.resource), " ", unit, ", ", rep.relative_error() * 100,
        "% from the target ", amount_text(target, g.resource), " (tolerance ", tolerance * 100,
        "%)");
  return rep;
}

nlohmann::json repair_to_json(const Repair& r, const UvcGeometry& g) {
  const auto counts = [&](const UvcDecision& d) {
    nlohmann::json blocks = nlohmann::json::array();
    for (int l = 0; l < g.depth; ++l) {
      blocks.push_back({{"skip", static_cast<bool>(d.skip[l])},
                        {"heads_pruned", d.counts.heads[l]},
                        {"mlp_pruned", d.counts.mlp[l]},
                        {"dims_pruned", d.counts.dims[l]}});
    }
    return blocks;
  };
  const std::string key = resource_key(g.resource);
  return {{"target_" + key, r.target},
          {"learned_" + key, r.learned_cost},
          {"learned_fraction", static_cast<double>(r.learned_cost) / g.dense_cost()},
          {"learned", counts(r.learned)},
          {key, r.cost},
          {"relative_error", r.relative_error()},
          {"table_" + key, r.table_cost},
          {"unit_steps", r.steps},
          {"blocks_skipped_by_repair", r.skipped_by_repair},
          {"blocks_restored_by_repair", r.restored_by_repair},
          {"final", counts(r.decision)}};
}

}  // namespace vitc
