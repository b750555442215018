// Gradient averaging, weight broadcast and metric sums over flattened buckets.
#include "dist/sync.h"

#include <map>
#include <utility>

#include <torch/torch.h>

#include "util/error.h"

namespace vitc::dist {

double average_gradients(Group& group, const std::vector<at::Tensor>& params, double local_loss) {
  check(!params.empty(), "average_gradients: no parameters");
  const at::Tensor& first = params.front();
  const at::TensorOptions options = first.options();
  torch::NoGradGuard no_grad;
  // Layout: every parameter's gradient (flattened), then one "has a gradient" flag per
  // parameter, then the loss. The bucket lives on the parameters' device; the flags are made on
  // the CPU and moved once, so a GPU run pays no per-parameter copies or synchronisations.
  std::vector<at::Tensor> pieces;
  pieces.reserve(params.size() + 1);
  std::vector<double> has_grad(params.size(), 0.0);
  for (size_t i = 0; i < params.size(); ++i) {
    const at::Tensor& p = params[i];
    check(p.scalar_type() == first.scalar_type() && p.device() == first.device(),
          "average_gradients: parameters of mixed dtypes or devices (", c10::toString(first.scalar_type()),
          " on ", first.device().str(), " and ", c10::toString(p.scalar_type()), " on ",
          p.device().str(), ")");
    if (p.grad().defined()) {
      pieces.push_back(p.grad().reshape({-1}));
      has_grad[i] = 1.0;
    } else {
      pieces.push_back(torch::zeros({p.numel()}, options));
    }
  }
  has_grad.push_back(local_loss);
  pieces.push_back(torch::tensor(has_grad, torch::dtype(torch::kFloat64)).to(options));
  at::Tensor bucket = torch::cat(pieces);
  group.allreduce_sum(bucket);
  bucket.div_(group.world_size());

  const int64_t n = static_cast<int64_t>(params.size());
  const at::Tensor tail = bucket.narrow(0, bucket.numel() - 1 - n, n + 1).to(torch::kCPU, torch::kFloat64);
  const double* summed = tail.data_ptr<double>();  // n flags (mean over ranks), then the loss
  int64_t offset = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    at::Tensor p = params[i];
    const int64_t numel = p.numel();
    if (summed[i] > 0) {
      const at::Tensor mean = bucket.narrow(0, offset, numel).view(p.sizes());
      if (p.grad().defined()) {
        p.mutable_grad().copy_(mean);
      } else {
        p.mutable_grad() = mean.clone();
      }
    }
    offset += numel;
  }
  return summed[n];
}

void broadcast_tensors(Group& group, const std::vector<at::Tensor>& tensors, int root) {
  torch::NoGradGuard no_grad;
  // One bucket per (device type, dtype), in a fixed order so that every rank builds the same
  // buckets: UVC's float64 state stays on the CPU while the weights may be on a GPU.
  std::map<std::pair<int, int>, std::vector<at::Tensor>> buckets;
  for (const auto& t : tensors) {
    buckets[{static_cast<int>(t.device().type()), static_cast<int>(t.scalar_type())}].push_back(t);
  }
  for (auto& [key, group_tensors] : buckets) {
    std::vector<at::Tensor> flat;
    for (const auto& t : group_tensors) flat.push_back(t.detach().reshape({-1}));
    at::Tensor bucket = torch::cat(flat);
    group.broadcast(bucket, root);
    int64_t offset = 0;
    for (auto& t : group_tensors) {
      t.detach().copy_(bucket.narrow(0, offset, t.numel()).view(t.sizes()));
      offset += t.numel();
    }
  }
}

void allreduce_sum(Group& group, std::vector<double>& values) {
  if (values.empty()) return;
  at::Tensor bucket = torch::tensor(values, torch::dtype(torch::kFloat64));
  group.allreduce_sum(bucket);
  const double* data = bucket.data_ptr<double>();
  for (size_t i = 0; i < values.size(); ++i) values[i] = data[i];
}

}  // namespace vitc::dist
