// Group scores from proj / fc2 columns, k-smallest selection, and the proximal shrinkage.
#include "compress/uvc/groups.h"

#include <algorithm>
#include <numeric>

#include <torch/torch.h>

#include "util/error.h"

namespace vitc {

GroupScores group_scores(VisionTransformerImpl& model, const UvcGeometry& g) {
  torch::NoGradGuard no_grad;
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  GroupScores s;
  // Absent heads have 0 dims (their count stays 0); absent dims of a real head and absent heads
  // and neurons score kAbsentScore, so no k-smallest selection of a block reaches them.
  s.dims = torch::zeros({g.depth, g.max_heads, g.max_head_dim}, f64);
  s.heads = torch::full({g.depth, g.max_heads}, kAbsentScore, f64);
  s.mlp = torch::full({g.depth, g.max_mlp_hidden}, kAbsentScore, f64);
  for (int l = 0; l < g.depth; ++l) {
    const UvcBlock& u = g.blocks[static_cast<size_t>(l)];
    Block block = model.block(l);
    const at::Tensor proj = block->attn->proj->weight.to(torch::kCPU, torch::kFloat64);
    const at::Tensor dims = proj.pow(2).sum(0).view({u.heads, u.head_dim});
    s.dims[l].narrow(0, 0, u.heads).fill_(kAbsentScore);
    s.dims[l].narrow(0, 0, u.heads).narrow(1, 0, u.head_dim).copy_(dims);
    s.heads[l].narrow(0, 0, u.heads).copy_(dims.sum(-1));
    const at::Tensor fc2 = block->mlp->fc2->weight.to(torch::kCPU, torch::kFloat64);
    s.mlp[l].narrow(0, 0, u.mlp_hidden).copy_(fc2.pow(2).sum(0));
  }
  return s;
}

std::vector<int> smallest_indices(const at::Tensor& values, int64_t k) {
  const at::Tensor v = values.to(torch::kCPU, torch::kFloat64).contiguous();
  check(v.dim() == 1 && k >= 0 && k <= v.size(0), "smallest_indices: k ", k, " out of [0, ",
        v.numel(), "]");
  const double* data = v.data_ptr<double>();
  std::vector<int> order(v.size(0));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return data[a] < data[b]; });
  order.resize(k);
  return order;
}

at::Tensor kept_head_mask(const GroupScores& scores, const PruneCounts& counts) {
  const int64_t L = scores.heads.size(0);
  at::Tensor kept = (scores.heads < kAbsentScore).to(torch::kFloat64);  // the heads blocks have
  for (int64_t l = 0; l < L; ++l) {
    for (int h : smallest_indices(scores.heads[l], counts.heads[l])) kept[l][h] = 0.0;
  }
  return kept;
}

void prox_shrink(VisionTransformerImpl& model, const UvcGeometry& g, const GroupScores& scores,
                 const PruneCounts& counts, const at::Tensor& y, const at::Tensor& p, double lr) {
  torch::NoGradGuard no_grad;
  const at::Tensor yc = y.to(torch::kCPU, torch::kFloat64).contiguous();
  const at::Tensor pc = p.to(torch::kCPU, torch::kFloat64).contiguous();
  for (int l = 0; l < g.depth; ++l) {
    const UvcBlock& u = g.blocks[static_cast<size_t>(l)];
    std::vector<float> proj_scale(static_cast<size_t>(u.heads) * u.head_dim, 1.0f);
    for (int h = 0; h < u.heads; ++h) {
      const float f = static_cast<float>(1.0 / (1.0 + 2.0 * lr * pc[l][h].item<double>()));
      for (int j : smallest_indices(scores.dims[l][h], counts.dims[l][h]))
        proj_scale[h * u.head_dim + j] *= f;
    }
    const float fh = static_cast<float>(1.0 / (1.0 + 2.0 * lr * yc[l][0].item<double>()));
    for (int h : smallest_indices(scores.heads[l], counts.heads[l])) {
      for (int j = 0; j < u.head_dim; ++j) proj_scale[h * u.head_dim + j] *= fh;
    }
    std::vector<float> fc2_scale(u.mlp_hidden, 1.0f);
    const float fm = static_cast<float>(1.0 / (1.0 + 2.0 * lr * yc[l][1].item<double>()));
    for (int n : smallest_indices(scores.mlp[l], counts.mlp[l])) fc2_scale[n] = fm;

    Block block = model.block(l);
    at::Tensor& proj = block->attn->proj->weight;
    at::Tensor& fc2 = block->mlp->fc2->weight;
    const auto as_row = [&](std::vector<float>& v, const at::Tensor& like) {
      return torch::from_blob(v.data(), {1, static_cast<int64_t>(v.size())}, torch::kFloat32)
          .to(like.device(), like.scalar_type());
    };
    proj.mul_(as_row(proj_scale, proj));
    fc2.mul_(as_row(fc2_scale, fc2));
  }
}

}  // namespace vitc
