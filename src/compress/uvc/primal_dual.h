// One primal-dual update of UVC's non-weight variables, after the weight step: projected SGD on
// the pruning amounts, the gate optimiser (its own SGD, every `gating_interval` steps), and dual
// ascent on y, p and z. The weights' AdamW step and proximal shrinkage are the search loop's.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "compress/uvc/groups.h"
#include "compress/uvc/state.h"

#include "util/settings.h"

namespace vitc {

// Defaults are the reference's (joint_train.py argparse and run_uvc_train.sh) except `rho`,
// which is vitc's (docs/uvc.md: the augmented-Lagrangian term that stops the overshoot), and
// z's step (UvcSearchOptions::zlr_schedule).
struct PrimalDualOptions {
  double slr = 0.02;  // SGD lr of the head / MLP pruning fractions
  double rlr = 0.02;  // SGD lr of the per-head dim pruning fractions
  double ylr = 1e-4;  // dual ascent on y (head and MLP group penalties)
  double plr = 1e-4;  // dual ascent on p (dim penalties)
  double rho = 10.0;  // augmented-Lagrangian weight of (R - B)^2 / 2 (0 = the reference's z (R - B) only)
  double glr = 0.1;   // gate SGD lr
  double gate_momentum = 0.9;
  double gate_weight_decay = 1e-4;
  double gating_weight = 0.5;   // weight of the gates' resource term against their task term
  double tau = 0.5;             // Gumbel-softmax temperature of the gates
  int gating_interval = 10;     // gate steps happen every this many primal-dual steps

  // UVC's own flags (never prefixed) and JSON (util/settings.h).
  template <class Self, class Visitor>
  static void visit_settings(Self& self, Visitor& v) {
    const Range nonneg = Range::at_least(0);
    v(Setting{"slr", "SGD lr of the head/MLP pruning fractions", nonneg, nullptr, false}, self.slr);
    v(Setting{"rlr", "SGD lr of the per-head dim pruning fractions", nonneg, nullptr, false},
      self.rlr);
    v(Setting{"ylr", "dual step of the head/MLP group penalties", nonneg, nullptr, false}, self.ylr);
    v(Setting{"plr", "dual step of the dim penalties", nonneg, nullptr, false}, self.plr);
    v(Setting{"rho", "augmented-Lagrangian weight of the budget (0 = the reference's plain z term)",
              nonneg, nullptr, false},
      self.rho);
    v(Setting{"glr", "gate SGD learning rate", nonneg, nullptr, false}, self.glr);
    v(Setting{"gate-momentum", "gate SGD momentum", Range::half_open(0, 1), nullptr, false, false},
      self.gate_momentum);
    v(Setting{"gate-weight-decay", "gate SGD weight decay", nonneg, nullptr, false, false},
      self.gate_weight_decay);
    v(Setting{"gating-weight", "weight of the MACs term against the task term in the gate step",
              nonneg, nullptr, false},
      self.gating_weight);
    v(Setting{"tau", "Gumbel-softmax temperature of the gates", Range::positive(), nullptr, false},
      self.tau);
    v(Setting{"gating-interval", "steps between gate updates", Range::at_least(1), nullptr, false},
      self.gating_interval);
  }
  void validate() const;  // names the flag
  nlohmann::json to_json() const;
};

struct PrimalDualStats {
  double budget_fraction = 0;  // R / dense cost (MACs or parameters) after the update (current
                               // integer decision)
  double z = 0;
  bool saturated = false;    // the pruning step was rescaled (max |grad| > 1): at its rate limit
  bool gate_step = false;    // the gate optimiser stepped
};

// `budget` is the target as a fraction of the dense cost (MACs or parameters); `zlr` the current
// dual step of z;
// `gate_skip_cost` [L] what skipping each block costs in the task loss (skip_cost.h), measured
// on the steps where gate_step_due (undefined on the others). With P = sum y·S_ceil(s)(scores) +
// sum p·S_ceil(r)(scores) (the group penalties) and R the resource function (resource.h) as a
// fraction of the dense cost at the hard gate decision, the pruning step direction is
//   unit(dP/d(s,r)) + m · unit(dR/d(s,r)),   m = z + rho (R - B),   unit(v) = v / max|v|
// (each term scaled to max-norm 1, so z works on a fixed scale however large y and p grow),
// projected (components pushing out of the box at a bound are dropped), rescaled so that
// max |grad| <= 1, then s -= slr·grad, r -= rlr·grad, clamp. The gates step every
// gating_interval steps along
//   d_l = -unit(skip costs)_l + gating_weight · mean over those steps of clamp(m, 0, 1)
// (the price of one unpruned block on the same unit scale), rescaled so that max |d| <= 1: the
// logits (skip, run) take an SGD step with momentum along (+d, -d), clamped to [-3, 3]; at most
// one block is newly skipped per gate step, and it releases its pruning amounts (docs/uvc.md
// "Block gates"). Then y += ylr·S, p += plr·S (clamped at 0) and z += zlr · (R - B) with R of the
// updated decision (z is the multiplier of an equality: it may go negative when R is below the
// budget).
PrimalDualStats primal_dual_step(UvcState& state, const UvcGeometry& geometry,
                                 const GroupScores& scores, double budget, double zlr,
                                 const PrimalDualOptions& options,
                                 const at::Tensor& gate_skip_cost);

// Whether the next primal_dual_step takes a gate step (and so wants the skip costs).
bool gate_step_due(const UvcState& state, const PrimalDualOptions& options);

// R / dense cost (MACs or parameters) of the current integer decision (hard gates), no gradients.
double current_budget_fraction(const UvcState& state, const UvcGeometry& geometry,
                               const GroupScores& scores);

}  // namespace vitc
