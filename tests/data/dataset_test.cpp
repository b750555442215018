// TensorDataset validation, subsets, and the seeded subset samplers.
#include <set>

#include <gtest/gtest.h>

#include "data/dataset.h"
#include "data/random.h"
#include "data/sampling.h"
#include "data_test_util.h"

namespace vitc {
namespace {

using testing::expect_error;

// `n` 1x2x2 images, image i filled with i; labels from `label_of`.
std::shared_ptr<TensorDataset> make_data(int64_t n, int64_t (*label_of)(int64_t)) {
  at::Tensor images = at::arange(n, at::kFloat).view({n, 1, 1, 1}).expand({n, 1, 2, 2}).clone();
  at::Tensor labels = at::empty({n}, at::kLong);
  for (int64_t i = 0; i < n; ++i) labels[i] = label_of(i);
  return std::make_shared<TensorDataset>(images, labels, 10, "toy", -1.5);
}

int64_t mod10(int64_t i) { return i % 10; }
// Class 9 gets only indices 9, 19, 29 (3 images); the others get the rest.
int64_t short_nine(int64_t i) { return i % 10 == 9 && i > 30 ? 0 : i % 10; }

TEST(TensorDataset, GetBatchGathersInOrder) {
  const auto data = make_data(20, mod10);
  const Batch batch = data->get_batch({7, 3, 7});
  ASSERT_EQ(batch.images.sizes(), (at::IntArrayRef{3, 1, 2, 2}));
  EXPECT_EQ(batch.images[0][0][1][1].item<float>(), 7);
  EXPECT_EQ(batch.images[1][0][0][0].item<float>(), 3);
  EXPECT_TRUE(at::equal(batch.labels, at::tensor({7, 3, 7}, at::kLong)));
  expect_error([&] { data->get_batch({0, 20}); }, {"toy", "index 20", "position 1", "< 20"});
  expect_error([&] { data->get_batch({-1}); }, {"toy", "index -1"});
  EXPECT_EQ(data->get_batch({}).images.size(0), 0);
}

TEST(TensorDataset, ValidatesInputs) {
  const at::Tensor images = at::zeros({4, 1, 2, 2});
  const at::Tensor labels = at::zeros({4}, at::kLong);
  expect_error([&] { TensorDataset(at::zeros({4, 2, 2}), labels, 10, "d"); }, {"d", "[N,C,H,W]"});
  expect_error([&] { TensorDataset(images.to(at::kDouble), labels, 10, "d"); }, {"float32"});
  expect_error([&] { TensorDataset(images, labels.to(at::kInt), 10, "d"); }, {"int64"});
  expect_error([&] { TensorDataset(images, at::zeros({3}, at::kLong), 10, "d"); },
               {"4 images but 3 labels"});
  expect_error([&] { TensorDataset(images, at::full({4}, 10, at::kLong), 10, "d"); },
               {"d", "[10, 10]", "num_classes = 10"});
  expect_error([&] { TensorDataset(images, labels, 0, "d"); }, {"num_classes"});
}

TEST(Subset, MapsIndicesAndKeepsParentProperties) {
  const auto data = make_data(30, mod10);
  const auto subset = make_subset(data, {5, 12, 29});
  EXPECT_EQ(subset->size(), 3);
  EXPECT_EQ(subset->num_classes(), 10);
  EXPECT_DOUBLE_EQ(subset->fill_value(), -1.5);
  EXPECT_TRUE(at::equal(subset->labels(), at::tensor({5, 2, 9}, at::kLong)));
  const Batch batch = subset->get_batch({2, 0});
  EXPECT_EQ(batch.images[0][0][0][0].item<float>(), 29);
  EXPECT_EQ(batch.images[1][0][0][0].item<float>(), 5);
  const auto nested = make_subset(subset, {1});
  EXPECT_EQ(nested->get_batch({0}).images[0][0][0][0].item<float>(), 12);
  expect_error([&] { subset->get_batch({3}); }, {"subset", "index 3"});
  expect_error([&] { make_subset(data, {30}); }, {"subset of toy", "index 30"});
  expect_error([&] { make_subset(nullptr, {0}); }, {"null"});
}

TEST(Random, PermutationIsPinned) {
  // Subsets are recorded by seed in run.json: the same seed must pick the same images in every
  // future build. If this fails, the sampling stream changed.
  EXPECT_EQ(seeded_permutation(10, 42), (std::vector<int64_t>{1, 7, 9, 0, 3, 8, 4, 2, 5, 6}));
  std::vector<int64_t> sorted = seeded_permutation(1000, 7);
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i) ASSERT_EQ(sorted[static_cast<size_t>(i)], i);
  EXPECT_NE(derive_seed({1, 2}), derive_seed({2, 1}));
  EXPECT_NE(derive_seed({0}), derive_seed({0, 0}));
}

TEST(Random, UniformBelowIsUniformEnough) {
  std::mt19937_64 rng(1);
  std::vector<int> counts(5, 0);
  for (int i = 0; i < 50000; ++i) counts[uniform_below(rng, 5)]++;
  for (int c : counts) EXPECT_NEAR(c, 10000, 500);
  EXPECT_EQ(uniform_below(rng, 1), 0u);
  EXPECT_THROW(uniform_below(rng, 0), Error);
}

void expect_sorted_unique_in_range(const std::vector<int64_t>& v, int64_t n) {
  for (size_t i = 0; i < v.size(); ++i) {
    EXPECT_GE(v[i], 0);
    EXPECT_LT(v[i], n);
    if (i > 0) {
      EXPECT_LT(v[i - 1], v[i]);
    }
  }
}

TEST(SampleSubset, SeededSortedReproducible) {
  const auto data = make_data(100, mod10);
  const auto a = sample_subset(*data, 30, 5);
  EXPECT_EQ(a.size(), 30u);
  expect_sorted_unique_in_range(a, 100);
  EXPECT_EQ(a, sample_subset(*data, 30, 5));
  EXPECT_NE(a, sample_subset(*data, 30, 6));
  // A larger subset of the same seed extends the smaller one (same permutation prefix).
  const auto b = sample_subset(*data, 60, 5);
  EXPECT_TRUE(std::includes(b.begin(), b.end(), a.begin(), a.end()));
  EXPECT_EQ(sample_subset(*data, 100, 5).size(), 100u);
  EXPECT_TRUE(sample_subset(*data, 0, 5).empty());
  expect_error([&] { sample_subset(*data, 101, 5); }, {"101", "toy", "has 100"});
  expect_error([&] { sample_subset(*data, -1, 5); }, {"-1"});
}

TEST(SamplePerClass, BalancedSortedReproducible) {
  const auto data = make_data(200, mod10);
  const auto a = sample_per_class(*data, 7, 11);
  ASSERT_EQ(a.size(), 70u);
  expect_sorted_unique_in_range(a, 200);
  std::vector<int> per_class(10, 0);
  for (int64_t i : a) per_class[static_cast<size_t>(i % 10)]++;
  for (int c : per_class) EXPECT_EQ(c, 7);
  EXPECT_EQ(a, sample_per_class(*data, 7, 11));
  EXPECT_NE(a, sample_per_class(*data, 7, 12));
  EXPECT_EQ(sample_per_class(*data, 20, 1).size(), 200u);
}

TEST(SamplePerClass, TooFewImagesNamesTheClass) {
  const auto data = make_data(100, short_nine);
  EXPECT_EQ(sample_per_class(*data, 3, 0).size(), 30u);
  expect_error([&] { sample_per_class(*data, 4, 0); }, {"class 9 has only 3", "toy", "4"});
  expect_error([&] { sample_per_class(*data, -2, 0); }, {"-2"});
}

TEST(SamplePerClass, WorksOnSubsets) {
  const auto data = make_data(100, mod10);
  const auto subset = make_subset(data, sample_subset(*data, 50, 3));
  const auto chosen = sample_per_class(*subset, 2, 9);
  EXPECT_EQ(chosen.size(), 20u);
  expect_sorted_unique_in_range(chosen, 50);
}

}  // namespace
}  // namespace vitc
