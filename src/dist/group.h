// A connected group of cooperating processes (c10d TCP store + Gloo process group behind a small
// interface of our own, so that nothing else includes c10d headers or depends on its version).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "dist/dist_config.h"

namespace vitc::dist {

// All collectives are blocking and bounded by config.timeout_seconds: a peer that died, hangs or
// never connected makes them throw vitc::Error (naming the operation, this rank and the timeout)
// instead of waiting forever. Every rank must call the same collectives in the same order.
class Group {
 public:
  // Rendezvous: rank 0 serves a TCP store at master_addr:master_port, every rank connects to it,
  // then the Gloo process group connects all pairs. Throws vitc::Error when a peer does not
  // arrive within the timeout or the address cannot be served/reached.
  explicit Group(const DistConfig& config);
  ~Group();
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

  int rank() const;
  int world_size() const;
  const DistConfig& config() const;

  // In place, on contiguous CPU tensors of one dtype (a flattened bucket): the sum over ranks.
  void allreduce_sum(at::Tensor& tensor);
  // In place: every rank gets root's values.
  void broadcast(at::Tensor& tensor, int root);
  void barrier();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace vitc::dist
