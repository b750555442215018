// Epoch iteration over a Dataset: seeded order, sharding, augmentation, background prefetch.
#pragma once

#include <cstdint>
#include <memory>

#include "data/augment.h"
#include "data/dataset.h"

namespace vitc {

struct LoaderOptions {
  int64_t batch_size = 128;
  bool shuffle = true;
  bool drop_last = false;  // drop the final short batch of the epoch
  uint64_t seed = 0;
  AugmentOptions augment;
  int64_t shard_rank = 0, shard_count = 1;
  // Batches prepared ahead by the background thread; 0 prepares each batch inside next() on the
  // caller's thread (same batches either way).
  int64_t prefetch = 2;
};

// The options of a training loader: shuffled, seeded, augmented as given, the final short batch
// dropped (kept when the data set is smaller than one batch), reading shard `shard_rank` of
// `shard_count` (data-parallel ranks).
LoaderOptions training_loader_options(const Dataset& data, int64_t batch_size, uint64_t seed,
                                      const AugmentOptions& augment, int64_t shard_rank = 0,
                                      int64_t shard_count = 1);

// Iterates the batches of one epoch:
//   DataLoader loader(data, options);
//   for (int64_t e = first_epoch; e < epochs; ++e) {
//     loader.start_epoch(e);
//     Batch batch;
//     while (loader.next(batch)) ...;
//   }
// The order and the augmentation of epoch e depend only on (seed, e), never on what ran before,
// so a run resumed at epoch e sees exactly the data an uninterrupted run sees.
// Batch slot s of an epoch holds positions [s*B, (s+1)*B) of the epoch's permutation; with
// shard_count K > 1 rank r gets slots r, r+K, r+2K, ... (ranks may differ by one batch when the
// slot count is not a multiple of K). Augmentation of slot s is seeded by (seed, e, s), so it is
// the same whichever rank or thread prepares it.
// A background thread gathers and augments the next batches while the caller computes.
class DataLoader {
 public:
  DataLoader(std::shared_ptr<const Dataset> data, LoaderOptions options);
  ~DataLoader();
  DataLoader(DataLoader&&) noexcept;
  DataLoader& operator=(DataLoader&&) noexcept;
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  // Batches this rank gets per epoch.
  int64_t batches_per_epoch() const;
  // Steps per epoch that every shard takes: data-parallel ranks (one per shard) must take the
  // same number of steps, one collective each, so N shards take floor(slots / N), the count of
  // the shard with the fewest batch slots; one shard takes batches_per_epoch(). `max_steps` > 0
  // truncates. Throws naming the data set when there are too few images for one step.
  int64_t steps_per_epoch(int64_t max_steps = 0) const;
  // Images this rank gets per epoch.
  int64_t images_per_epoch() const;
  const LoaderOptions& options() const;
  const Dataset& dataset() const;

  // Starts (or restarts) epoch `epoch` >= 0, abandoning what is left of the current one.
  void start_epoch(int64_t epoch);
  // Fills `batch` with the next batch; false at the end of the epoch. Rethrows (as vitc::Error or
  // whatever the dataset threw) an error met while preparing that batch.
  bool next(Batch& batch);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace vitc
