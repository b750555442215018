// Gradient averaging, weight broadcast and metric sums over flattened buckets.
#include "dist/sync.h"

#include <map>

#include <torch/torch.h>

#include "util/error.h"

namespace vitc::dist {

double average_gradients(Group& group, const std::vector<at::Tensor>& params, double local_loss) {
  check(!params.empty(), "average_gradients: no parameters");
  const at::ScalarType dtype = params.front().scalar_type();
  torch::NoGradGuard no_grad;
  // Layout: every parameter's gradient (flattened), then one "has a gradient" flag per
  // parameter, then the loss.
  std::vector<at::Tensor> pieces;
  pieces.reserve(params.size() + 2);
  at::Tensor flags = torch::zeros({static_cast<int64_t>(params.size())}, torch::dtype(dtype));
  for (size_t i = 0; i < params.size(); ++i) {
    const at::Tensor& p = params[i];
    check(p.scalar_type() == dtype, "average_gradients: parameters of mixed dtypes (",
          c10::toString(dtype), " and ", c10::toString(p.scalar_type()), ")");
    if (p.grad().defined()) {
      pieces.push_back(p.grad().reshape({-1}));
      flags[static_cast<int64_t>(i)] = 1;
    } else {
      pieces.push_back(torch::zeros({p.numel()}, torch::dtype(dtype)));
    }
  }
  pieces.push_back(flags);
  pieces.push_back(torch::full({1}, local_loss, torch::dtype(torch::kFloat64)).to(dtype));
  at::Tensor bucket = torch::cat(pieces);
  group.allreduce_sum(bucket);
  bucket.div_(group.world_size());

  int64_t offset = 0;
  const int64_t n = static_cast<int64_t>(params.size());
  const at::Tensor summed_flags = bucket.narrow(0, bucket.numel() - 1 - n, n);
  for (size_t i = 0; i < params.size(); ++i) {
    at::Tensor p = params[i];
    const int64_t numel = p.numel();
    if (summed_flags[static_cast<int64_t>(i)].item<double>() > 0) {
      const at::Tensor mean = bucket.narrow(0, offset, numel).view(p.sizes());
      if (p.grad().defined()) {
        p.mutable_grad().copy_(mean);
      } else {
        p.mutable_grad() = mean.clone();
      }
    }
    offset += numel;
  }
  return bucket[bucket.numel() - 1].item<double>();
}

void broadcast_tensors(Group& group, const std::vector<at::Tensor>& tensors, int root) {
  torch::NoGradGuard no_grad;
  // One bucket per dtype, in a fixed order so that every rank builds the same buckets.
  std::map<int, std::vector<at::Tensor>> by_dtype;
  for (const auto& t : tensors) by_dtype[static_cast<int>(t.scalar_type())].push_back(t);
  for (auto& [dtype, group_tensors] : by_dtype) {
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
