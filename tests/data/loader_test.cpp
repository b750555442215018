// DataLoader: coverage per epoch and across shards, determinism in (seed, epoch), resuming,
// augmentation through the loader, threads, and error handling.
#include <stdexcept>

#include <gtest/gtest.h>

#include "data/loader.h"
#include "data_test_util.h"

namespace vitc {
namespace {

using testing::expect_error;

// `n` 1x4x4 images; pixel (0,0) of image i holds i (so batches reveal their indices), the rest
// random so that augmentation changes something. Labels i % 10.
std::shared_ptr<TensorDataset> make_data(int64_t n) {
  at::manual_seed(0);
  at::Tensor images = at::rand({n, 1, 4, 4});
  images.select(2, 0).select(2, 0).copy_(at::arange(n, at::kFloat).view({n, 1}));
  return std::make_shared<TensorDataset>(images, at::arange(n, at::kLong).remainder(10), 10,
                                         "toy", -0.5);
}

std::vector<int64_t> ids_of(const Batch& batch) {
  const at::Tensor ids = batch.images.select(2, 0).select(2, 0).reshape({-1}).to(at::kLong);
  return std::vector<int64_t>(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + ids.numel());
}

std::vector<Batch> epoch_batches(DataLoader& loader, int64_t epoch) {
  loader.start_epoch(epoch);
  std::vector<Batch> batches;
  Batch batch;
  while (loader.next(batch)) batches.push_back(batch);
  return batches;
}

bool same_batches(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!at::equal(a[i].images, b[i].images) || !at::equal(a[i].labels, b[i].labels)) {
      return false;
    }
  }
  return true;
}

LoaderOptions options(int64_t batch_size, uint64_t seed = 1) {
  LoaderOptions o;
  o.batch_size = batch_size;
  o.seed = seed;
  return o;
}

TEST(Loader, EachImageExactlyOncePerEpoch) {
  const auto data = make_data(1000);
  DataLoader loader(data, options(128));
  EXPECT_EQ(loader.batches_per_epoch(), 8);
  EXPECT_EQ(loader.images_per_epoch(), 1000);
  for (int64_t epoch : {0, 1}) {
    const auto batches = epoch_batches(loader, epoch);
    ASSERT_EQ(batches.size(), 8u);
    std::vector<int> seen(1000, 0);
    for (size_t b = 0; b < batches.size(); ++b) {
      EXPECT_EQ(batches[b].images.size(0), b + 1 < batches.size() ? 128 : 1000 - 7 * 128);
      const auto ids = ids_of(batches[b]);
      for (size_t k = 0; k < ids.size(); ++k) {
        seen[static_cast<size_t>(ids[k])]++;
        EXPECT_EQ(batches[b].labels[static_cast<int64_t>(k)].item<int64_t>(), ids[k] % 10);
      }
    }
    for (int count : seen) ASSERT_EQ(count, 1);
  }
}

TEST(Loader, DropLastAndNoShuffle) {
  const auto data = make_data(1000);
  LoaderOptions o = options(128);
  o.drop_last = true;
  o.shuffle = false;
  DataLoader loader(data, o);
  EXPECT_EQ(loader.batches_per_epoch(), 7);
  EXPECT_EQ(loader.images_per_epoch(), 896);
  const auto batches = epoch_batches(loader, 4);
  ASSERT_EQ(batches.size(), 7u);
  int64_t expected = 0;
  for (const auto& batch : batches) {
    EXPECT_EQ(batch.images.size(0), 128);
    for (int64_t id : ids_of(batch)) EXPECT_EQ(id, expected++);
  }
}

TEST(Loader, ShardsPartitionTheEpoch) {
  const auto data = make_data(1000);
  DataLoader whole(data, options(64));  // 16 slots
  const auto all = epoch_batches(whole, 2);
  const int64_t k = 3;
  std::vector<int> seen(1000, 0);
  int64_t total_batches = 0;
  for (int64_t rank = 0; rank < k; ++rank) {
    LoaderOptions o = options(64);
    o.shard_rank = rank;
    o.shard_count = k;
    DataLoader shard(data, o);
    const auto batches = epoch_batches(shard, 2);
    EXPECT_EQ(static_cast<int64_t>(batches.size()), shard.batches_per_epoch());
    total_batches += shard.batches_per_epoch();
    for (size_t j = 0; j < batches.size(); ++j) {
      // Rank r gets slots r, r+k, ... of the same epoch permutation.
      EXPECT_TRUE(at::equal(batches[j].images, all[static_cast<size_t>(rank + k * j)].images));
      for (int64_t id : ids_of(batches[j])) seen[static_cast<size_t>(id)]++;
    }
  }
  EXPECT_EQ(total_batches, 16);
  for (int count : seen) ASSERT_EQ(count, 1);
}

TEST(Loader, SameSeedAndEpochGiveSameBatches) {
  const auto data = make_data(500);
  LoaderOptions o = options(50, 7);
  o.augment = AugmentOptions{1, true};
  DataLoader a(data, o), b(data, o);
  EXPECT_TRUE(same_batches(epoch_batches(a, 3), epoch_batches(b, 3)));
  EXPECT_FALSE(same_batches(epoch_batches(a, 3), epoch_batches(b, 4)));
  DataLoader other_seed(data, options(50, 8));
  EXPECT_FALSE(same_batches(epoch_batches(a, 0), epoch_batches(other_seed, 0)));
}

TEST(Loader, StartingAtEpochThreeEqualsIteratingZeroToThree) {
  const auto data = make_data(300);
  LoaderOptions o = options(32, 3);
  o.augment = AugmentOptions{2, true};
  DataLoader straight(data, o);
  std::vector<Batch> third;
  for (int64_t epoch = 0; epoch <= 3; ++epoch) third = epoch_batches(straight, epoch);
  DataLoader resumed(data, o);
  EXPECT_TRUE(same_batches(epoch_batches(resumed, 3), third));
  // Abandoning an epoch half-way and restarting it gives the full epoch again.
  resumed.start_epoch(3);
  Batch batch;
  ASSERT_TRUE(resumed.next(batch));
  ASSERT_TRUE(resumed.next(batch));
  EXPECT_TRUE(same_batches(epoch_batches(resumed, 3), third));
}

TEST(Loader, PrefetchThreadDoesNotChangeBatches) {
  const auto data = make_data(300);
  LoaderOptions o = options(16, 4);
  o.augment = AugmentOptions{2, true};
  LoaderOptions sync = o;
  sync.prefetch = 0;
  LoaderOptions deep = o;
  deep.prefetch = 8;
  DataLoader threaded(data, o), inline_loader(data, sync), deep_loader(data, deep);
  const auto expected = epoch_batches(inline_loader, 1);
  EXPECT_TRUE(same_batches(epoch_batches(threaded, 1), expected));
  EXPECT_TRUE(same_batches(epoch_batches(deep_loader, 1), expected));
}

TEST(Loader, AugmentsWithTheDatasetsFillValue) {
  const auto data = make_data(64);
  LoaderOptions o = options(64);
  o.shuffle = false;
  o.augment = AugmentOptions{0, true};
  DataLoader loader(data, o);
  const auto batches = epoch_batches(loader, 0);
  ASSERT_EQ(batches.size(), 1u);
  int flipped = 0;
  for (int64_t i = 0; i < 64; ++i) {
    const at::Tensor original = data->images()[i];
    const at::Tensor got = batches[0].images[i];
    if (at::equal(got, original)) continue;
    EXPECT_TRUE(at::equal(got, at::flip(original, {2}))) << "image " << i;
    ++flipped;
  }
  EXPECT_GT(flipped, 0);
  o.augment = AugmentOptions{4, false};  // pad = side: some crops show only padding rows
  DataLoader padded(data, o);
  const at::Tensor images = epoch_batches(padded, 0)[0].images;
  EXPECT_EQ(images.sizes(), (at::IntArrayRef{64, 1, 4, 4}));
  EXPECT_TRUE(images.eq(-0.5f).any().item<bool>());
}

// Throws for index 13, to check that errors from the producer thread reach the caller.
class FailingDataset : public Dataset {
 public:
  int64_t size() const override { return 40; }
  int num_classes() const override { return 2; }
  std::string name() const override { return "failing"; }
  Batch get_batch(const std::vector<int64_t>& indices) const override {
    for (int64_t i : indices) check(i != 13, "failing: cannot decode image 13");
    const auto n = static_cast<int64_t>(indices.size());
    return Batch{at::zeros({n, 1, 2, 2}), at::zeros({n}, at::kLong)};
  }
  at::Tensor labels() const override { return at::zeros({40}, at::kLong); }
};

TEST(Loader, ProducerErrorsReachTheCaller) {
  for (int64_t prefetch : {0, 2}) {
    LoaderOptions o = options(10);
    o.shuffle = false;
    o.prefetch = prefetch;
    DataLoader loader(std::make_shared<FailingDataset>(), o);
    loader.start_epoch(0);
    Batch batch;
    ASSERT_TRUE(loader.next(batch));
    expect_error([&] { loader.next(batch); }, {"image 13"});
    loader.start_epoch(1);  // the loader stays usable
    ASSERT_TRUE(loader.next(batch));
  }
}

TEST(Loader, MisuseIsAnError) {
  const auto data = make_data(10);
  DataLoader loader(data, options(4));
  Batch batch;
  expect_error([&] { loader.next(batch); }, {"start_epoch"});
  expect_error([&] { loader.start_epoch(-1); }, {"epoch", "-1"});
  expect_error([&] { DataLoader(nullptr, options(4)); }, {"null"});
  expect_error([&] { DataLoader(data, options(0)); }, {"batch_size", "0"});
  LoaderOptions bad_rank = options(4);
  bad_rank.shard_count = 2;
  bad_rank.shard_rank = 2;
  expect_error([&] { DataLoader(data, bad_rank); }, {"shard_rank 2", "< 2"});
  LoaderOptions bad_pad = options(4);
  bad_pad.augment.pad = -1;
  expect_error([&] { DataLoader(data, bad_pad); }, {"pad", "-1"});
  // After the end, next() keeps answering false.
  loader.start_epoch(0);
  while (loader.next(batch)) {
  }
  EXPECT_FALSE(loader.next(batch));
  // A moved-from loader reports misuse instead of crashing.
  DataLoader moved = std::move(loader);
  EXPECT_EQ(moved.batches_per_epoch(), 3);
  expect_error([&] { loader.start_epoch(0); }, {"moved"});  // NOLINT(bugprone-use-after-move)
}

TEST(Loader, DestroyingMidEpochDoesNotHang) {
  const auto data = make_data(1000);
  for (int i = 0; i < 20; ++i) {
    DataLoader loader(data, options(8));
    loader.start_epoch(i);
    Batch batch;
    if (i % 2 == 0) {
      ASSERT_TRUE(loader.next(batch));
    }
  }
}

TEST(Loader, EmptyShardAndEmptyDataset) {
  const auto data = make_data(10);
  LoaderOptions o = options(8);  // 2 slots
  o.shard_count = 3;
  o.shard_rank = 2;
  DataLoader loader(data, o);
  EXPECT_EQ(loader.batches_per_epoch(), 0);
  EXPECT_EQ(epoch_batches(loader, 0).size(), 0u);
  auto empty = std::make_shared<TensorDataset>(at::zeros({0, 1, 2, 2}), at::zeros({0}, at::kLong),
                                               2, "empty");
  DataLoader none(empty, options(8));
  EXPECT_EQ(epoch_batches(none, 0).size(), 0u);
}

}  // namespace
}  // namespace vitc
