// The resource function as a torch expression (float64, so MAC counts stay exact).
#include "compress/uvc/resource.h"

#include <torch/torch.h>

#include "util/error.h"

namespace vitc {

at::Tensor resource_macs(const UvcGeometry& g, const at::Tensor& head_counts,
                         const at::Tensor& mlp_counts, const at::Tensor& dim_counts,
                         const at::Tensor& kept_heads, const at::Tensor& keep_prob) {
  const int64_t L = g.depth, H = g.max_heads;
  check(head_counts.sizes() == at::IntArrayRef{L} && mlp_counts.sizes() == at::IntArrayRef{L} &&
            keep_prob.sizes() == at::IntArrayRef{L} && dim_counts.sizes() == at::IntArrayRef{L, H} &&
            kept_heads.sizes() == at::IntArrayRef{L, H},
        "resource_macs: expected counts [", L, "], [", L, "], [", L, ",", H, "], kept heads [", L,
        ",", H, "] and keep probabilities [", L, "]");
  const auto f64 = [](const at::Tensor& t) { return t.to(torch::kFloat64); };
  const auto per_block = [&](int UvcBlock::*size) {
    std::vector<double> values;
    for (const UvcBlock& b : g.blocks) values.push_back(b.*size);
    return torch::tensor(values, torch::kFloat64).to(head_counts.device());
  };
  const at::Tensor N = per_block(&UvcBlock::tokens), K = per_block(&UvcBlock::keys),
                   D = per_block(&UvcBlock::dim), d = per_block(&UvcBlock::head_dim),
                   F = per_block(&UvcBlock::mlp_hidden), heads = per_block(&UvcBlock::heads);
  const at::Tensor kept = heads - f64(head_counts);                          // [L]
  const at::Tensor qk = d * kept;                                             // [L]
  const at::Tensor v = d * kept - (f64(kept_heads).detach() * f64(dim_counts)).sum(1);  // [L]
  const at::Tensor mlp = F - f64(mlp_counts);                                 // [L]
  const at::Tensor block = N * D * (2 * qk + v) + N * K * (qk + v) + N * v * D + 2 * N * D * mlp;
  return static_cast<double>(g.fixed_macs) + (f64(keep_prob) * block).sum();
}

}  // namespace vitc
