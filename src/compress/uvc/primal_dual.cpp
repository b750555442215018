// The pruning-variable, gate and dual updates of one UVC step.
#include "compress/uvc/primal_dual.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "compress/uvc/autograd.h"
#include "compress/uvc/resource.h"
#include "util/error.h"

namespace vitc {

void PrimalDualOptions::validate() const { validate_settings(*this); }

nlohmann::json PrimalDualOptions::to_json() const { return settings_to_json(*this); }

namespace {

PruneCounts integer_counts(const ContinuousCounts& c) {
  PruneCounts out;
  const at::Tensor heads = c.heads.detach().to(torch::kLong), mlp = c.mlp.detach().to(torch::kLong),
                   dims = c.dims.detach().to(torch::kLong);
  for (int64_t l = 0; l < heads.size(0); ++l) {
    out.heads.push_back(static_cast<int>(heads[l].item<int64_t>()));
    out.mlp.push_back(static_cast<int>(mlp[l].item<int64_t>()));
    std::vector<int> row;
    for (int64_t h = 0; h < dims.size(1); ++h) row.push_back(static_cast<int>(dims[l][h].item<int64_t>()));
    out.dims.push_back(row);
  }
  return out;
}

// Gate logits stay in [-3, 3] (margin at most 6): a block the task favoured early can still be
// skipped later within a few gate steps (the logits otherwise grow without bound).
constexpr double kGateLogitBound = 3.0;

// v / max |v| (v itself when it is all zero).
at::Tensor unit_max(const at::Tensor& v) {
  const double n = v.abs().max().item<double>();
  return n > 0 ? v / n : v;
}

// The hard keep decision (1 where g1 > g0), [L] float64.
at::Tensor hard_keep(const at::Tensor& gates) {
  return (gates.select(1, 1) > gates.select(1, 0)).to(torch::kFloat64);
}

// R / dense for the variables in `st` (which may require grad).
at::Tensor budget_fraction(const UvcState& st, const UvcGeometry& g, const GroupScores& scores,
                           const ContinuousCounts& c, const at::Tensor& keep) {
  const at::Tensor kept = kept_head_mask(scores, integer_counts(c));
  return resource_cost(g, c.heads, c.mlp, c.dims, kept, keep) /
         static_cast<double>(g.dense_cost());
}

// Each block's dense cost (MACs or parameters) over the costliest block's, [L] float64.
at::Tensor relative_block_costs(const UvcGeometry& g) {
  std::vector<double> costs;
  for (int l = 0; l < g.depth; ++l) costs.push_back(static_cast<double>(g.dense_block_cost(l)));
  const at::Tensor t = torch::tensor(costs, torch::kFloat64);
  return t / t.max();
}

}  // namespace

double current_budget_fraction(const UvcState& st, const UvcGeometry& g, const GroupScores& scores) {
  torch::NoGradGuard no_grad;
  const ContinuousCounts c = continuous_counts(st, g);
  return budget_fraction(st, g, scores, c, hard_keep(st.gates)).item<double>();
}

bool gate_step_due(const UvcState& st, const PrimalDualOptions& o) {
  return st.gate_grad_steps.item<double>() + 1 >= o.gating_interval;
}

PrimalDualStats primal_dual_step(UvcState& st, const UvcGeometry& g, const GroupScores& scores,
                                 double budget, double zlr, const PrimalDualOptions& o,
                                 const at::Tensor& gate_skip_cost) {
  const int64_t L = g.depth, H = g.max_heads;
  UvcState var = st;
  var.s = st.s.detach().clone().requires_grad_(true);
  var.r = st.r.detach().clone().requires_grad_(true);
  const ContinuousCounts c = continuous_counts(var, g);
  const at::Tensor S_heads = least_k_sum(scores.heads, c.heads);                        // [L]
  const at::Tensor S_mlp = least_k_sum(scores.mlp, c.mlp);                              // [L]
  const at::Tensor S_dims =
      least_k_sum(scores.dims.view({L * H, g.max_head_dim}), c.dims.view({L * H}));
  const at::Tensor penalty = (st.y.select(1, 0) * S_heads).sum() + (st.y.select(1, 1) * S_mlp).sum() +
                             (st.p.view({L * H}) * S_dims).sum();
  const at::Tensor R = budget_fraction(var, g, scores, c, hard_keep(st.gates));
  // The counts' graph is shared with R (it holds the per-block bounds): keep it for R's gradient.
  const auto penalty_grads = torch::autograd::grad({penalty}, {var.s, var.r}, {}, true, false, true);
  const auto resource_grads =
      torch::autograd::grad({R}, {var.s, var.r}, {}, false, false, true);
  const auto or_zeros = [](const at::Tensor& t, const at::Tensor& like) {
    return t.defined() ? t : torch::zeros_like(like);
  };
  // Each term's gradient in (s, r) scaled to max-norm 1 (docs/uvc.md): the budget multiplier
  // then works on a fixed scale however large y and p grow.
  const auto unit = [](const at::Tensor& a, const at::Tensor& b, at::Tensor& ua, at::Tensor& ub) {
    const double n = std::max(a.abs().max().item<double>(), b.abs().max().item<double>());
    ua = n > 0 ? a / n : a;
    ub = n > 0 ? b / n : b;
  };
  at::Tensor ys, yr, rs, rr;
  unit(or_zeros(penalty_grads[0], st.s), or_zeros(penalty_grads[1], st.r), ys, yr);
  unit(or_zeros(resource_grads[0], st.s), or_zeros(resource_grads[1], st.r), rs, rr);
  const double violation = R.item<double>() - budget;
  const double multiplier = st.z.item<double>() + o.rho * violation;
  at::Tensor gs = ys + multiplier * rs;
  at::Tensor gr = yr + multiplier * rr;
  // The gates' resource term: the price of one unpruned block, the multiplier clamped to [0, 1]
  // so that it only pushes towards skipping (below the budget the pruning amounts, not useless
  // blocks, take the MACs back) and never outweighs the costliest skip (docs/uvc.md "Block
  // gates"), times the block's dense MACs over the costliest block's (1 where blocks are equal,
  // as in a ViT; a Swin's blocks of a cheaper stage are pushed less).
  const at::Tensor gate_resource =
      std::clamp(multiplier, 0.0, 1.0) * relative_block_costs(g);

  PrimalDualStats stats;
  {
    torch::NoGradGuard no_grad;
    // Projection: drop components that push out of [0, max] at a bound.
    const auto project = [](at::Tensor& grad, const at::Tensor& x, const at::Tensor& upper) {
      grad = torch::where((x <= 0) & (grad > 0), torch::zeros_like(grad), grad);
      grad = torch::where((x >= upper) & (grad < 0), torch::zeros_like(grad), grad);
    };
    const PruneBounds bounds = prune_bounds(g);
    const at::Tensor s_upper = torch::stack(
        {max_prune_fractions(bounds.heads), max_prune_fractions(bounds.mlp)}, 1);
    const at::Tensor r_upper = max_prune_fractions(bounds.head_dim);
    project(gs, st.s, s_upper);
    project(gr, st.r, r_upper);
    const double m = std::max(gs.abs().max().item<double>(), gr.abs().max().item<double>());
    stats.saturated = m > 1.0;
    if (stats.saturated) gs /= m, gr /= m;
    st.s -= o.slr * gs;
    st.r -= o.rlr * gr;
    clamp_pruning(st, g);

    // Gates, every gating_interval steps: d = -unit(skip costs) + gating_weight x mean of the
    // resource term, rescaled so that max |d| <= 1, is the descent direction of keep; the logits
    // (skip, run) move by (+d, -d) through SGD with momentum and weight decay.
    const bool gate_step = gate_step_due(st, o);
    if (gate_skip_cost.defined()) st.gate_task_sum -= gate_skip_cost.to(torch::kFloat64).cpu();
    st.gate_resource_sum += gate_resource;
    st.gate_grad_steps += 1;
    if (gate_step) {
      const double k = st.gate_grad_steps.item<double>();
      at::Tensor d = unit_max(st.gate_task_sum / k) + o.gating_weight * (st.gate_resource_sum / k);
      const double m = d.abs().max().item<double>();
      if (m > 1.0) d /= m;
      const at::Tensor logit_grad = torch::stack({-d, d}, 1) + o.gate_weight_decay * st.gates;
      st.gate_momentum.mul_(o.gate_momentum).add_(logit_grad);
      const at::Tensor ran = hard_keep(st.gates), before = st.gates.clone();
      st.gates -= o.glr * st.gate_momentum;
      st.gates.clamp_(-kGateLogitBound, kGateLogitBound);
      // At most one block newly skipped per gate step, the one pushed hardest: a skip is a jump
      // of a whole block's MACs, and blocks that all sit below the price would otherwise leave
      // together, far past the budget. The others keep their logits, momentum cleared.
      at::Tensor flipped = (ran > 0) & (hard_keep(st.gates) == 0);
      if (flipped.sum().item<int64_t>() > 1) {
        const int64_t keep_flip =
            torch::where(flipped, d, torch::full_like(d, -INFINITY)).argmax().item<int64_t>();
        for (int64_t l = 0; l < L; ++l) {
          if (l == keep_flip || !flipped[l].item<bool>()) continue;
          st.gates[l] = before[l];
          st.gate_momentum[l].zero_();
        }
        flipped = (ran > 0) & (hard_keep(st.gates) == 0);
      }
      // A block the gates now skip goes whole: its pruning amounts are released, so that the
      // MACs it held return to the budget and a restored block comes back unpruned.
      st.s.masked_fill_(flipped.unsqueeze(1), 0.0);
      st.r.masked_fill_(flipped.unsqueeze(1), 0.0);
      st.gate_task_sum.zero_();
      st.gate_resource_sum.zero_();
      st.gate_grad_steps.zero_();
      stats.gate_step = true;
    }

    // Dual ascent: y and p by the penalties they weigh (>= 0), z by the constraint's violation.
    st.y.select(1, 0).add_(o.ylr * S_heads.detach());
    st.y.select(1, 1).add_(o.ylr * S_mlp.detach());
    st.p.add_(o.plr * S_dims.detach().view({L, H}));
    st.y.clamp_(0);
    st.p.clamp_(0);
    stats.budget_fraction = current_budget_fraction(st, g, scores);
    st.z += zlr * (stats.budget_fraction - budget);
    stats.z = st.z.item<double>();
  }
  return stats;
}

}  // namespace vitc
