// Sharding, paired steps, gradient averaging and rank-0 decisions for the methods' own loops.
#include "compress/common/data_parallel.h"

#include <algorithm>
#include <cmath>

#include <torch/torch.h>

#include "dist/sync.h"
#include "util/error.h"

namespace vitc {

LoaderOptions sharded_training_loader_options(const Dataset& data, int64_t batch_size,
                                              uint64_t seed, const AugmentOptions& augment,
                                              const dist::Group* group) {
  return training_loader_options(data, batch_size, seed, augment, rank_of(group), world_of(group));
}

double backward_and_average(const at::Tensor& loss, const std::vector<at::Tensor>& params,
                            dist::Group* group) {
  const double value = loss.item<double>();
  loss.backward();
  if (group == nullptr) return value;
  return dist::average_gradients(*group, params, value);
}

bool lead_decides(dist::Group* group, bool mine, const std::string& what) {
  return lead_decides(group, static_cast<int64_t>(mine ? 1 : 0), what) != 0;
}

int64_t lead_decides(dist::Group* group, int64_t mine, const std::string& what) {
  if (group == nullptr) return mine;
  std::vector<double> lead = {static_cast<double>(mine)};
  broadcast_values(group, lead);
  const int64_t value = static_cast<int64_t>(std::llround(lead[0]));
  check(value == mine, "rank ", group->rank(), " of ", group->world_size(), " disagrees with rank 0 on ",
        what, ": rank 0 has ", value, ", this rank ", mine,
        " (every rank must see the same --out: one machine or a shared file system)");
  return value;
}

void broadcast_values(dist::Group* group, std::vector<double>& values) {
  if (group == nullptr || values.empty()) return;
  at::Tensor t = torch::tensor(values, torch::dtype(torch::kFloat64));
  group->broadcast(t, 0);
  const double* data = t.data_ptr<double>();
  for (size_t i = 0; i < values.size(); ++i) values[i] = data[i];
}

double agree_with_lead(dist::Group* group, const std::vector<at::Tensor>& tensors) {
  if (group == nullptr) return 0.0;
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> own, lead;
  for (const at::Tensor& t : tensors) {
    if (!t.defined()) continue;
    own.push_back(t);
    lead.push_back(t.detach().clone());
  }
  if (!own.empty()) dist::broadcast_tensors(*group, lead, 0);
  double diff = 0;
  for (size_t i = 0; i < own.size(); ++i) {
    if (own[i].numel() == 0) continue;
    diff = std::max(diff, (own[i].detach().to(torch::kFloat64) - lead[i].to(torch::kFloat64))
                              .abs()
                              .max()
                              .item<double>());
    own[i].detach().copy_(lead[i]);
  }
  std::vector<double> per_rank(group->world_size(), 0.0);
  per_rank[group->rank()] = diff;
  dist::allreduce_sum(*group, per_rank);
  return *std::max_element(per_rank.begin(), per_rank.end());
}

void check_same_on_all_ranks(dist::Group* group, const std::string& text, const std::string& what) {
  if (group == nullptr) return;
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (const char ch : text) {
    h ^= static_cast<unsigned char>(ch);
    h *= 1099511628211ull;
  }
  // Two 32-bit halves: exact in doubles.
  const std::vector<double> mine = {static_cast<double>(h >> 32), static_cast<double>(h & 0xffffffffull)};
  std::vector<double> lead = mine;
  broadcast_values(group, lead);
  const double differs = lead != mine ? 1.0 : 0.0;
  std::vector<double> count = {differs};
  dist::allreduce_sum(*group, count);  // every rank learns whether any rank differs
  check(count[0] == 0, what, " differs between the ranks (", count[0], " of ",
        group->world_size(), " disagree with rank 0", differs > 0 ? ", this rank among them" : "",
        "): their computations were not identical");
}

void barrier(dist::Group* group) {
  if (group != nullptr) group->barrier();
}

}  // namespace vitc
