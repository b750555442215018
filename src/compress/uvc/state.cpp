// UVC state: initial values, (de)serialisation, clamping, counts and the current decision.
#include "compress/uvc/state.h"

#include <torch/torch.h>

#include "compress/uvc/autograd.h"
#include "util/error.h"

namespace vitc {

UvcState make_uvc_state(const UvcGeometry& g) {
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  UvcState st;
  st.s = torch::zeros({g.depth, 2}, f64);
  st.r = torch::zeros({g.depth, g.max_heads}, f64);
  st.gates = torch::stack({torch::full({g.depth}, -1.0, f64), torch::full({g.depth}, 1.0, f64)}, 1);
  st.y = torch::full({g.depth, 2}, 1e-3, f64);
  st.p = torch::full({g.depth, g.max_heads}, 1e-3, f64);
  st.z = torch::full({1}, 1e-3, f64);
  st.gate_momentum = torch::zeros({g.depth, 2}, f64);
  st.gate_task_sum = torch::zeros({g.depth}, f64);
  st.gate_resource_sum = torch::zeros({g.depth}, f64);
  st.gate_grad_steps = torch::zeros({1}, f64);
  return st;
}

namespace {

struct Field {
  const char* name;
  at::Tensor UvcState::*member;
};
const Field kFields[] = {{"s", &UvcState::s},
                         {"r", &UvcState::r},
                         {"gates", &UvcState::gates},
                         {"y", &UvcState::y},
                         {"p", &UvcState::p},
                         {"z", &UvcState::z},
                         {"gate_momentum", &UvcState::gate_momentum},
                         {"gate_task_sum", &UvcState::gate_task_sum},
                         {"gate_resource_sum", &UvcState::gate_resource_sum},
                         {"gate_grad_steps", &UvcState::gate_grad_steps}};

}  // namespace

TensorMap uvc_state_to_tensors(const UvcState& state) {
  TensorMap out;
  for (const Field& f : kFields) out[f.name] = (state.*f.member).detach().contiguous();
  return out;
}

UvcState uvc_state_from_tensors(const TensorMap& tensors, const UvcGeometry& g,
                                const std::string& where) {
  const UvcState fresh = make_uvc_state(g);
  UvcState st;
  for (const Field& f : kFields) {
    const auto it = tensors.find(f.name);
    check(it != tensors.end(), "'", where, "' has no UVC tensor '", f.name,
          "' (written by an older vitc? start the search again in a new directory)");
    const at::Tensor& expected = fresh.*f.member;
    check(it->second.sizes() == expected.sizes(), "'", where, "': UVC tensor '", f.name,
          "' has shape ", it->second.sizes(), ", expected ", expected.sizes(),
          " for this teacher and this vitc version");
    st.*f.member = it->second.to(torch::kFloat64).clone();
  }
  return st;
}

double max_prune_fraction(int bound) {
  return bound <= 1 ? 0.0 : static_cast<double>(bound - 1) / bound - 1e-9;
}

PruneBounds prune_bounds(const UvcGeometry& g) {
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  PruneBounds b;
  b.heads = torch::zeros({g.depth}, f64);
  b.mlp = torch::zeros({g.depth}, f64);
  b.head_dim = torch::zeros({g.depth, g.max_heads}, f64);
  for (int l = 0; l < g.depth; ++l) {
    const UvcBlock& u = g.blocks[static_cast<size_t>(l)];
    b.heads[l] = u.heads;
    b.mlp[l] = u.mlp_hidden;
    b.head_dim[l].narrow(0, 0, u.heads).fill_(u.head_dim);
  }
  return b;
}

at::Tensor max_prune_fractions(const at::Tensor& bounds) {
  return torch::where(bounds > 1, (bounds - 1) / bounds - 1e-9, torch::zeros_like(bounds));
}

void clamp_pruning(UvcState& st, const UvcGeometry& g) {
  torch::NoGradGuard no_grad;
  const PruneBounds b = prune_bounds(g);
  st.s.select(1, 0).copy_(st.s.select(1, 0).clamp_min(0.0).min(max_prune_fractions(b.heads)));
  st.s.select(1, 1).copy_(st.s.select(1, 1).clamp_min(0.0).min(max_prune_fractions(b.mlp)));
  st.r.copy_(st.r.clamp_min(0.0).min(max_prune_fractions(b.head_dim)));
}

ContinuousCounts continuous_counts(const UvcState& st, const UvcGeometry& g) {
  const PruneBounds b = prune_bounds(g);
  ContinuousCounts c;
  c.heads = ste_ceil(st.s.select(1, 0) * b.heads);
  c.mlp = ste_ceil(st.s.select(1, 1) * b.mlp);
  c.dims = ste_ceil(st.r * b.head_dim);
  return c;
}

UvcDecision current_decision(const UvcState& st, const UvcGeometry& g) {
  torch::NoGradGuard no_grad;
  const ContinuousCounts c = continuous_counts(st, g);
  const at::Tensor heads = c.heads.to(torch::kLong), mlp = c.mlp.to(torch::kLong),
                   dims = c.dims.to(torch::kLong);
  UvcDecision d;
  d.counts.dims.assign(g.depth, std::vector<int>(g.max_heads));
  for (int l = 0; l < g.depth; ++l) {
    d.skip.push_back(st.gates[l][0].item<double>() >= st.gates[l][1].item<double>());
    d.counts.heads.push_back(static_cast<int>(heads[l].item<int64_t>()));
    d.counts.mlp.push_back(static_cast<int>(mlp[l].item<int64_t>()));
    for (int h = 0; h < g.max_heads; ++h)
      d.counts.dims[l][h] = static_cast<int>(dims[l][h].item<int64_t>());
  }
  return d;
}

}  // namespace vitc
