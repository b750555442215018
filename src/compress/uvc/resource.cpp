// The resource function as a torch expression (float64, so MAC counts stay exact).
#include "compress/uvc/resource.h"

#include <torch/torch.h>

#include "util/error.h"

namespace vitc {

at::Tensor resource_macs(const UvcGeometry& g, const at::Tensor& head_counts,
                         const at::Tensor& mlp_counts, const at::Tensor& dim_counts,
                         const at::Tensor& kept_heads, const at::Tensor& keep_prob) {
  const int64_t L = g.depth, H = g.heads;
  check(head_counts.sizes() == at::IntArrayRef{L} && mlp_counts.sizes() == at::IntArrayRef{L} &&
            keep_prob.sizes() == at::IntArrayRef{L} && dim_counts.sizes() == at::IntArrayRef{L, H} &&
            kept_heads.sizes() == at::IntArrayRef{L, H},
        "resource_macs: expected counts [", L, "], [", L, "], [", L, ",", H, "], kept heads [", L,
        ",", H, "] and keep probabilities [", L, "]");
  const auto f64 = [](const at::Tensor& t) { return t.to(torch::kFloat64); };
  const double N = g.tokens, D = g.embed_dim, d = g.head_dim, F = g.mlp_hidden;
  const at::Tensor kept = H - f64(head_counts);                               // [L]
  const at::Tensor qk = d * kept;                                             // [L]
  const at::Tensor v = d * kept - (f64(kept_heads).detach() * f64(dim_counts)).sum(1);  // [L]
  const at::Tensor mlp = F - f64(mlp_counts);                                 // [L]
  const at::Tensor block = N * D * (2 * qk + v) + N * N * (qk + v) + N * v * D + 2 * N * D * mlp;
  return static_cast<double>(g.fixed_macs) + (f64(keep_prob) * block).sum();
}

}  // namespace vitc
