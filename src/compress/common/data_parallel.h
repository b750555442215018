// Data parallelism for the methods' own training loops (ViT-Slim and UVC searches, PRACTISE
// adaptors, model inversion): the trainer's pattern (train/trainer.cpp) in small pieces: sharded
// batches, paired step counts, averaged gradients, rank 0's decisions and an agreement check.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "data/dataset.h"
#include "data/loader.h"
#include "dist/group.h"

namespace vitc {

// Every function takes the group as a pointer; null means one process, where each is a no-op (or
// the single-process computation), so that a run without a group does exactly what it did before.
inline int world_of(const dist::Group* group) { return group ? group->world_size() : 1; }
inline int rank_of(const dist::Group* group) { return group ? group->rank() : 0; }
// The rank that writes files and shows progress.
inline bool is_lead(const dist::Group* group) { return rank_of(group) == 0; }

// training_loader_options reading this rank's shard of the seeded order (batch slot s goes to
// rank s mod N).
LoaderOptions sharded_training_loader_options(const Dataset& data, int64_t batch_size,
                                              uint64_t seed, const AugmentOptions& augment,
                                              const dist::Group* group);

// loss.backward(); with a group, every gradient of `params` is then replaced by its mean over the
// ranks (one allreduce, dist/sync.h). Returns the loss value: the mean over the ranks with a
// group, so that every rank sees the same value (and stops together on a non-finite one).
double backward_and_average(const at::Tensor& loss, const std::vector<at::Tensor>& params,
                            dist::Group* group);

// Rank 0's value of a decision every rank also made itself from files (resume: is there a
// finished stage, a checkpoint ...). Throws vitc::Error naming `what` on a rank whose own value
// differs: every rank must see the same --out (one machine or a shared file system).
bool lead_decides(dist::Group* group, bool mine, const std::string& what);
int64_t lead_decides(dist::Group* group, int64_t mine, const std::string& what);

// Rank 0's values on every rank (one broadcast; doubles carry integers exactly up to 2^53).
void broadcast_values(dist::Group* group, std::vector<double>& values);

// Rank 0's tensors copied to every rank (one broadcast per dtype), returning the largest
// |own - rank 0| any rank had before the copy (max over ranks and elements; 0 = they agreed
// bit for bit before, as data parallelism promises). Undefined tensors are skipped. 0 without a
// group.
double agree_with_lead(dist::Group* group, const std::vector<at::Tensor>& tensors);

// For results every rank computes itself from identical inputs (a Structure, a ranking's order):
// checks that `text` (their serialisation) is the same on every rank as on rank 0, by a 64-bit
// hash broadcast from rank 0, and throws vitc::Error naming `what` on a rank where it differs.
void check_same_on_all_ranks(dist::Group* group, const std::string& text, const std::string& what);

// Waits for every rank (after rank 0 wrote something the others read); no-op without a group.
void barrier(dist::Group* group);

}  // namespace vitc
