// The real Fashion-MNIST files (skipped when the Debian package is absent), directory lookup and
// the missing-data error.
#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>

#include "data/fashion_mnist.h"
#include "data_test_util.h"

namespace vitc {
namespace {

using testing::expect_error;

bool have_real_files() {
  const std::string dir = fashion_mnist_dir();
  for (const char* name : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                           "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}) {
    if (!std::filesystem::exists(std::filesystem::path(dir) / name)) return false;
  }
  return true;
}

// Sets an environment variable for one test and restores the old value afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (had_) {
      ::setenv(name_, old_.c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

void expect_split(const std::string& split, int64_t n) {
  if (!have_real_files()) {
    GTEST_SKIP() << "Fashion-MNIST not found in " << fashion_mnist_dir()
                 << " (apt-get install dataset-fashion-mnist)";
  }
  const auto data = load_fashion_mnist(split);
  ASSERT_EQ(data->images().sizes(), (at::IntArrayRef{n, 1, 28, 28}));
  ASSERT_EQ(data->labels().sizes(), (at::IntArrayRef{n}));
  EXPECT_EQ(data->images().scalar_type(), at::kFloat);
  EXPECT_EQ(data->labels().scalar_type(), at::kLong);
  EXPECT_EQ(data->num_classes(), 10);
  const at::Tensor counts = at::bincount(data->labels(), {}, 10);
  EXPECT_TRUE(at::equal(counts, at::full({10}, n / 10, at::kLong))) << counts;
  // Black pixels exist, so the minimum is exactly what a raw 0 maps to.
  EXPECT_NEAR(data->images().min().item<double>(), data->fill_value(), 1e-6);
  EXPECT_NEAR(data->fill_value(), -kFashionMnistMean / kFashionMnistStd, 1e-12);
  EXPECT_NEAR(data->images().max().item<double>(), (1 - kFashionMnistMean) / kFashionMnistStd,
              1e-5);
  // The default mean/std are the training set's, so it normalises to about 0 / 1.
  const double tolerance = split == "train" ? 0.01 : 0.02;
  EXPECT_NEAR(data->images().mean().item<double>(), 0.0, tolerance);
  EXPECT_NEAR(data->images().std().item<double>(), 1.0, tolerance);
}

TEST(FashionMnist, RealTrainSplit) { expect_split("train", 60000); }
TEST(FashionMnist, RealTestSplit) { expect_split("test", 10000); }

TEST(FashionMnist, MissingDirectoryNamesPathAndPackage) {
  const std::string dir = testing::fresh_dir("fm_missing") + "/nowhere";
  expect_error([&] { load_fashion_mnist("train", dir); },
               {dir, "does not exist", "dataset-fashion-mnist",
                "apt-get install dataset-fashion-mnist"});
}

TEST(FashionMnist, MissingFileNamesPathAndPackage) {
  const std::string dir = testing::fresh_dir("fm_missing_file");
  testing::write_split(dir, "train", {1, 2});
  std::filesystem::remove(dir + "/train-labels-idx1-ubyte.gz");
  expect_error([&] { load_fashion_mnist("train", dir); },
               {dir + "/train-labels-idx1-ubyte.gz", "dataset-fashion-mnist"});
}

TEST(FashionMnist, EnvironmentVariableOverridesDefaultDirectory) {
  const std::string dir = testing::fresh_dir("fm_env");
  testing::write_split(dir, "t10k", {4, 5, 6, 7});
  {
    ScopedEnv env(kFashionMnistDirEnv, dir);
    EXPECT_EQ(fashion_mnist_dir(), dir);
    EXPECT_EQ(fashion_mnist_dir("/explicit"), "/explicit");
    EXPECT_EQ(load_fashion_mnist("test")->size(), 4);
  }
  {
    ScopedEnv env(kFashionMnistDirEnv, dir + "/absent");
    expect_error([&] { load_fashion_mnist("test"); }, {dir + "/absent", "dataset-fashion-mnist"});
  }
  {
    ScopedEnv env(kFashionMnistDirEnv, "");
    EXPECT_EQ(fashion_mnist_dir(), kFashionMnistDefaultDir);
  }
}

}  // namespace
}  // namespace vitc
