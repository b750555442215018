// The resource function as a torch expression (float64, so MAC and parameter counts stay exact).
#include "compress/uvc/resource.h"

#include <torch/torch.h>

#include "util/error.h"

namespace vitc {

at::Tensor resource_cost(const UvcGeometry& g, const at::Tensor& head_counts,
                         const at::Tensor& mlp_counts, const at::Tensor& dim_counts,
                         const at::Tensor& kept_heads, const at::Tensor& keep_prob) {
  const int64_t L = g.depth, H = g.max_heads;
  check(head_counts.sizes() == at::IntArrayRef{L} && mlp_counts.sizes() == at::IntArrayRef{L} &&
            keep_prob.sizes() == at::IntArrayRef{L} && dim_counts.sizes() == at::IntArrayRef{L, H} &&
            kept_heads.sizes() == at::IntArrayRef{L, H},
        "resource_cost: expected counts [", L, "], [", L, "], [", L, ",", H, "], kept heads [", L,
        ",", H, "] and keep probabilities [", L, "]");
  const auto f64 = [](const at::Tensor& t) { return t.to(torch::kFloat64); };
  const auto per_block = [&](const auto& value_of) {
    std::vector<double> values;
    for (const UvcBlock& b : g.blocks) values.push_back(static_cast<double>(value_of(b)));
    return torch::tensor(values, torch::kFloat64).to(head_counts.device());
  };
  const at::Tensor d = per_block([](const UvcBlock& b) { return b.head_dim; });
  const at::Tensor F = per_block([](const UvcBlock& b) { return b.mlp_hidden; });
  const at::Tensor heads = per_block([](const UvcBlock& b) { return b.heads; });
  const at::Tensor kept = heads - f64(head_counts);                          // [L]
  const at::Tensor qk = d * kept;                                             // [L]
  const at::Tensor v = d * kept - (f64(kept_heads).detach() * f64(dim_counts)).sum(1);  // [L]
  const at::Tensor mlp = F - f64(mlp_counts);                                 // [L]
  const at::Tensor block =
      per_block([](const UvcBlock& b) { return b.cost.fixed; }) +
      per_block([](const UvcBlock& b) { return b.cost.per_qk_dim; }) * qk +
      per_block([](const UvcBlock& b) { return b.cost.per_v_dim; }) * v +
      per_block([](const UvcBlock& b) { return b.cost.per_head; }) * kept +
      per_block([](const UvcBlock& b) { return b.cost.per_neuron; }) * mlp;
  return static_cast<double>(g.fixed_cost) + (f64(keep_prob) * block).sum();
}

}  // namespace vitc
