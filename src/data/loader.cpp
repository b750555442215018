// DataLoader: the epoch's permutation and batch slots, and a producer thread feeding a small queue.
#include "data/loader.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <numeric>
#include <thread>
#include <utility>
#include <vector>

#include <ATen/Parallel.h>

#include "data/random.h"
#include "util/error.h"

namespace vitc {

LoaderOptions training_loader_options(const Dataset& data, int64_t batch_size, uint64_t seed,
                                      const AugmentOptions& augment, int64_t shard_rank,
                                      int64_t shard_count) {
  LoaderOptions o;
  o.batch_size = batch_size;
  o.shuffle = true;
  o.drop_last = data.size() >= batch_size;
  o.seed = seed;
  o.augment = augment;
  o.shard_rank = shard_rank;
  o.shard_count = shard_count;
  return o;
}

struct DataLoader::State {
  // A prepared batch, or the error met while preparing it (delivered in order by next()).
  struct Item {
    Batch batch;
    std::exception_ptr error;
  };

  std::shared_ptr<const Dataset> data;
  LoaderOptions options;
  int64_t slots_per_epoch = 0;  // over all ranks

  bool started = false;
  int64_t epoch = 0;
  std::vector<int64_t> order;  // this epoch's permutation of the dataset
  std::vector<int64_t> slots;  // this rank's batch slots, in order
  size_t next_slot = 0;        // used when prefetch == 0

  std::thread worker;
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<Item> queue;
  bool stop = false;
  bool producer_done = false;

  ~State() { stop_worker(); }

  Batch make_batch(int64_t slot) const {
    const int64_t n = static_cast<int64_t>(order.size());
    const int64_t begin = slot * options.batch_size;
    const int64_t end = std::min(n, begin + options.batch_size);
    std::vector<int64_t> indices(order.begin() + begin, order.begin() + end);
    const uint64_t seed =
        derive_seed({static_cast<uint64_t>(RandomStream::kAugment), options.seed,
                     static_cast<uint64_t>(epoch), static_cast<uint64_t>(slot)});
    Batch batch = data->get_augmented_batch(indices, seed);
    if (augment_enabled(options.augment)) {
      batch.images = augment_images(batch.images, options.augment, data->fill_value(), seed);
    }
    return batch;
  }

  void produce() {
    // A new std::thread starts with OpenMP's default team size; follow at::set_num_threads
    // instead so that the loader does not compete with the trainer for cores it was not given.
    at::init_num_threads();
    for (int64_t slot : slots) {
      {
        std::unique_lock<std::mutex> lock(mutex);
        changed.wait(lock, [&] {
          return stop || static_cast<int64_t>(queue.size()) < options.prefetch;
        });
        if (stop) return;
      }
      Item item;
      try {
        item.batch = make_batch(slot);
      } catch (...) {
        item.error = std::current_exception();
      }
      const bool failed = item.error != nullptr;
      {
        std::lock_guard<std::mutex> lock(mutex);
        queue.push_back(std::move(item));
        if (failed) producer_done = true;
      }
      changed.notify_all();
      if (failed) return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex);
      producer_done = true;
    }
    changed.notify_all();
  }

  void stop_worker() {
    if (worker.joinable()) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        stop = true;
      }
      changed.notify_all();
      worker.join();
    }
    queue.clear();
    stop = false;
    producer_done = false;
  }
};

DataLoader::DataLoader(std::shared_ptr<const Dataset> data, LoaderOptions options)
    : state_(std::make_unique<State>()) {
  check(data != nullptr, "DataLoader: the dataset is null");
  check(options.batch_size >= 1, "DataLoader: batch_size must be >= 1, got ",
        options.batch_size);
  check(options.shard_count >= 1, "DataLoader: shard_count must be >= 1, got ",
        options.shard_count);
  check(options.shard_rank >= 0 && options.shard_rank < options.shard_count,
        "DataLoader: shard_rank ", options.shard_rank, " is out of range; expected 0 <= rank < ",
        options.shard_count);
  check(options.prefetch >= 0, "DataLoader: prefetch must be >= 0, got ", options.prefetch);
  check(options.augment.pad >= 0, "DataLoader: augmentation pad must be >= 0, got ",
        options.augment.pad);
  const int64_t n = data->size();
  state_->slots_per_epoch = options.drop_last ? n / options.batch_size
                                              : (n + options.batch_size - 1) / options.batch_size;
  state_->data = std::move(data);
  state_->options = options;
}

DataLoader::~DataLoader() = default;
DataLoader::DataLoader(DataLoader&&) noexcept = default;
DataLoader& DataLoader::operator=(DataLoader&&) noexcept = default;

namespace {

template <typename T>
T& live(const std::unique_ptr<T>& state) {
  check(state != nullptr, "DataLoader: used after it was moved from");
  return *state;
}

}  // namespace

int64_t DataLoader::batches_per_epoch() const {
  const State& s = live(state_);
  const int64_t k = s.options.shard_count, r = s.options.shard_rank;
  return s.slots_per_epoch > r ? (s.slots_per_epoch - r + k - 1) / k : 0;
}

int64_t DataLoader::steps_per_epoch(int64_t max_steps) const {
  const State& s = live(state_);
  const int64_t shards = s.options.shard_count;
  int64_t steps = s.slots_per_epoch / shards;
  check(shards == 1 || steps > 0, "training data '", s.data->name(), "' has ", s.data->size(),
        " images: too few for ", shards, " ranks of batch ", s.options.batch_size);
  if (max_steps > 0) steps = std::min(steps, max_steps);
  check(steps > 0, "training data '", s.data->name(), "' yields no batches");
  return steps;
}

int64_t DataLoader::images_per_epoch() const {
  const State& s = live(state_);
  const int64_t n = s.data->size(), b = s.options.batch_size, k = s.options.shard_count;
  int64_t images = 0;
  for (int64_t slot = s.options.shard_rank; slot < s.slots_per_epoch; slot += k) {
    images += std::min(b, n - slot * b);
  }
  return images;
}

const LoaderOptions& DataLoader::options() const { return live(state_).options; }
const Dataset& DataLoader::dataset() const { return *live(state_).data; }

void DataLoader::start_epoch(int64_t epoch) {
  State& s = live(state_);
  check(epoch >= 0, "DataLoader: epoch must be >= 0, got ", epoch);
  s.stop_worker();
  s.started = true;
  s.epoch = epoch;
  s.next_slot = 0;
  const int64_t n = s.data->size();
  if (s.options.shuffle) {
    s.order = seeded_permutation(
        n, derive_seed({static_cast<uint64_t>(RandomStream::kEpochOrder), s.options.seed,
                        static_cast<uint64_t>(epoch)}));
  } else {
    s.order.resize(static_cast<size_t>(n));
    std::iota(s.order.begin(), s.order.end(), int64_t{0});
  }
  s.slots.clear();
  for (int64_t slot = s.options.shard_rank; slot < s.slots_per_epoch;
       slot += s.options.shard_count) {
    s.slots.push_back(slot);
  }
  if (s.options.prefetch > 0) {
    if (s.slots.empty()) {
      s.producer_done = true;
    } else {
      s.worker = std::thread([&s] { s.produce(); });
    }
  }
}

bool DataLoader::next(Batch& batch) {
  State& s = live(state_);
  check(s.started, "DataLoader: call start_epoch(epoch) before next()");
  if (s.options.prefetch == 0) {
    if (s.next_slot >= s.slots.size()) return false;
    batch = s.make_batch(s.slots[s.next_slot++]);
    return true;
  }
  State::Item item;
  {
    std::unique_lock<std::mutex> lock(s.mutex);
    s.changed.wait(lock, [&] { return !s.queue.empty() || s.producer_done; });
    if (s.queue.empty()) return false;
    item = std::move(s.queue.front());
    s.queue.pop_front();
  }
  s.changed.notify_all();
  if (item.error) std::rethrow_exception(item.error);
  batch = std::move(item.batch);
  return true;
}

}  // namespace vitc
