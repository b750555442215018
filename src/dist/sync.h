// Data-parallel synchronisation on a Group: averaged gradients, equal initial weights, summed
// metrics. Each call is one collective over a flattened bucket.
#pragma once

#include <vector>

#include <ATen/core/Tensor.h>

#include "dist/group.h"

namespace vitc::dist {

// Replaces every parameter's .grad by its mean over the ranks (one allreduce of a flattened
// bucket, divided by the world size), and returns the mean of `local_loss` over the ranks (it
// travels in the same bucket). A parameter that has no gradient on any rank keeps none (so the
// optimizer skips it exactly as a single process would); one that has a gradient on some rank
// gets the mean with zeros for the others. Parameters must share one floating dtype and one device
// (the bucket is made there; Gloo reduces CPU and CUDA tensors).
double average_gradients(Group& group, const std::vector<at::Tensor>& params, double local_loss);

// Copies root's values into `tensors` on every rank (one broadcast of a flattened bucket per
// device type and dtype). Used to start all ranks from rank 0's weights.
void broadcast_tensors(Group& group, const std::vector<at::Tensor>& tensors, int root = 0);

// Sums `values` over the ranks in place (in double precision).
void allreduce_sum(Group& group, std::vector<double>& values);

}  // namespace vitc::dist
