// IDX parsing on small hand-made gzip files: valid files load exactly, each corrupt case fails
// with a message naming the file.
#include <gtest/gtest.h>

#include "data/fashion_mnist.h"
#include "data/idx.h"
#include "data_test_util.h"

namespace vitc {
namespace {

using testing::expect_error;
using testing::idx_bytes;
using testing::fresh_dir;
using testing::write_gzip;
using testing::write_split;

TEST(Idx, ParsesDimsAndData) {
  const std::string dir = fresh_dir("idx_parse");
  const std::string path = dir + "/a.gz";
  write_gzip(path, idx_bytes({2, 3}, {1, 2, 3, 4, 5, 6}));
  const IdxArray array = read_idx(path, 2);
  EXPECT_EQ(array.dims, (std::vector<int64_t>{2, 3}));
  ASSERT_EQ(array.data.sizes(), (at::IntArrayRef{2, 3}));
  EXPECT_EQ(array.data[1][2].item<int64_t>(), 6);
  EXPECT_EQ(array.data.scalar_type(), at::kByte);
}

TEST(Idx, ReadsUncompressedFilesAsIs) {
  const std::string dir = fresh_dir("idx_plain");
  const std::string path = dir + "/a.idx";
  testing::write_plain(path, idx_bytes({4}, {9, 8, 7, 6}));
  EXPECT_EQ(read_idx(path, 1).data[3].item<int64_t>(), 6);
}

TEST(Idx, CorruptHeadersNameTheFile) {
  const std::string dir = fresh_dir("idx_corrupt");
  const std::string path = dir + "/x.gz";
  write_gzip(path, "");
  expect_error([&] { read_idx(path, 1); }, {path, "not an IDX file"});
  write_gzip(path, std::string("\x01\x02\x08\x01\0\0\0\0", 8));
  expect_error([&] { read_idx(path, 1); }, {path, "bad magic"});
  write_gzip(path, idx_bytes({2}, {1, 2}, 0x0D));
  expect_error([&] { read_idx(path, 1); }, {path, "element type", "unsigned byte"});
  write_gzip(path, idx_bytes({2, 1}, {1, 2}));
  expect_error([&] { read_idx(path, 1); }, {path, "2 dimensions, expected 1"});
  write_gzip(path, idx_bytes({5}, {1, 2}));
  expect_error([&] { read_idx(path, 1); }, {path, "truncated"});
  write_gzip(path, idx_bytes({2}, {1, 2, 3}));
  expect_error([&] { read_idx(path, 1); }, {path, "1 unexpected bytes"});
  // Sizes whose product overflows 64 bits must read as truncated, not wrap around.
  write_gzip(path, idx_bytes({0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, {1}));
  expect_error([&] { read_idx(path, 3); }, {path, "truncated"});
  std::string header_only = idx_bytes({3, 28, 28}, {});
  header_only.resize(9);
  write_gzip(path, header_only);
  expect_error([&] { read_idx(path, 3); }, {path, "truncated", "header"});
}

TEST(Idx, DamagedGzipNamesTheFile) {
  const std::string dir = fresh_dir("idx_gzip");
  const std::string good = dir + "/good.gz";
  write_gzip(good, idx_bytes({1000}, std::vector<uint8_t>(1000, 3)));
  const std::string bytes = testing::read_plain(good);
  const std::string cut = dir + "/cut.gz";
  testing::write_plain(cut, bytes.substr(0, bytes.size() / 2));
  expect_error([&] { read_idx(cut, 1); }, {cut});
  std::string flipped = bytes;
  flipped[flipped.size() / 2] ^= 0x55;
  const std::string bad = dir + "/bad.gz";
  testing::write_plain(bad, flipped);
  expect_error([&] { read_idx(bad, 1); }, {bad});
  expect_error([&] { read_idx(dir + "/none.gz", 1); }, {dir + "/none.gz", "cannot open"});
}

TEST(Idx, DecompressionBombsAreRefusedByTheHeadersOwnCounts) {
  const std::string dir = fresh_dir("idx_bomb");
  // A tiny gzip file whose header promises 2 GiB: refused before anything is read or allocated.
  const std::string promise = dir + "/promise.gz";
  write_gzip(promise, idx_bytes({0x80000000u}, {1, 2, 3}));
  expect_error([&] { read_idx(promise, 1); },
               {promise, "promises 2147483648 bytes", "more than this", "gzip file can inflate to"});
  // A header promising more than 4 GiB in a file that could inflate to it is refused too.
  expect_error([&] {
    write_gzip(promise, idx_bytes({0xFFFFFFFFu, 2}, {}));
    read_idx(promise, 2);
  }, {promise, "promises"});
  // A small header followed by 64 MiB of zeros (64 KB gzip): at most 1 MiB past the promised
  // data is inflated before the file is refused.
  const std::string trailing = dir + "/trailing.gz";
  write_gzip(trailing, idx_bytes({4}, {1, 2, 3, 4}) + std::string(64u << 20, '\0'));
  expect_error([&] { read_idx(trailing, 1); },
               {trailing, "1048576 or more unexpected bytes after the 4 data"});
  // Plain (not gzip) files are bounded by their own size.
  const std::string plain = dir + "/plain.idx";
  testing::write_plain(plain, idx_bytes({1000}, {1, 2}));
  expect_error([&] { read_idx(plain, 1); }, {plain, "promises 1000 bytes", "only 2 follow"});
}

TEST(FashionMnistFiles, LoadsHandMadeSplit) {
  const std::string dir = fresh_dir("fm_small");
  write_split(dir, "train", {3, 0, 9});
  const auto data = load_fashion_mnist("train", dir, 0.5, 0.25);
  EXPECT_EQ(data->size(), 3);
  EXPECT_EQ(data->num_classes(), 10);
  EXPECT_EQ(data->name(), "fashion-mnist/train");
  ASSERT_EQ(data->images().sizes(), (at::IntArrayRef{3, 1, 28, 28}));
  EXPECT_TRUE(at::equal(data->labels(), at::tensor({3, 0, 9}, at::kLong)));
  // Image 1, pixel (2, 5) holds raw (7 + 2*28 + 5) % 256 = 68.
  const double expected = (68 / 255.0 - 0.5) / 0.25;
  EXPECT_NEAR(data->images()[1][0][2][5].item<double>(), expected, 1e-5);
  EXPECT_DOUBLE_EQ(data->fill_value(), (0 - 0.5) / 0.25);
  const Batch batch = data->get_batch({2, 0});
  EXPECT_TRUE(at::equal(batch.labels, at::tensor({9, 3}, at::kLong)));
  EXPECT_TRUE(at::equal(batch.images[0], data->images()[2]));
}

TEST(FashionMnistFiles, TestSplitUsesT10kFiles) {
  const std::string dir = fresh_dir("fm_t10k");
  write_split(dir, "t10k", {1, 2});
  EXPECT_EQ(load_fashion_mnist("test", dir)->size(), 2);
  expect_error([&] { load_fashion_mnist("train", dir); },
               {dir + "/train-images-idx3-ubyte.gz", "dataset-fashion-mnist"});
}

TEST(FashionMnistFiles, CorruptFilesNameTheFile) {
  const std::string dir = fresh_dir("fm_corrupt");
  const std::string images = dir + "/train-images-idx3-ubyte.gz";
  const std::string labels = dir + "/train-labels-idx1-ubyte.gz";
  auto load = [&] { load_fashion_mnist("train", dir); };

  write_split(dir, "train", {1, 2, 3});
  write_gzip(images, idx_bytes({3, 27, 28}, std::vector<uint8_t>(3 * 27 * 28)));
  expect_error(load, {images, "27 x 28", "expected 28 x 28"});
  write_gzip(images, idx_bytes({2, 28, 27}, std::vector<uint8_t>(2 * 28 * 27)));
  expect_error(load, {images, "28 x 27", "expected 28 x 28"});
  write_gzip(images, idx_bytes({3, 784}, testing::test_pixels(3)));
  expect_error(load, {images, "2 dimensions, expected 3"});
  std::string bad_magic = idx_bytes({3, 28, 28}, testing::test_pixels(3));
  bad_magic[0] = 0x1F;
  write_gzip(images, bad_magic);
  expect_error(load, {images, "bad magic"});
  write_gzip(images, idx_bytes({4, 28, 28}, testing::test_pixels(3)));
  expect_error(load, {images, "truncated"});

  write_split(dir, "train", {1, 2, 3});
  write_gzip(labels, idx_bytes({2}, {1, 2}));
  expect_error(load, {images, labels, "3 images", "2 labels"});
  write_gzip(labels, idx_bytes({3}, {1, 10, 2}));
  expect_error(load, {labels, "label 10 at index 1", "0..9"});
  write_gzip(labels, idx_bytes({3, 28, 28}, testing::test_pixels(3)));
  expect_error(load, {labels, "3 dimensions, expected 1"});
}

TEST(FashionMnistFiles, RejectsBadArguments) {
  const std::string dir = fresh_dir("fm_args");
  write_split(dir, "train", {1});
  expect_error([&] { load_fashion_mnist("validation", dir); }, {"validation", "train, test"});
  expect_error([&] { load_fashion_mnist("train", dir, 0.5, 0.0); }, {"std", "positive"});
}

}  // namespace
}  // namespace vitc
