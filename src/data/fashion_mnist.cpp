// Fashion-MNIST loading: file names per split, shape and label checks, normalisation.
#include "data/fashion_mnist.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "data/idx.h"
#include "util/error.h"

namespace vitc {
namespace {

constexpr int64_t kSide = 28;
constexpr int kClasses = 10;
constexpr const char* kInstallHint =
    "install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist) "
    "or point VITC_FASHION_MNIST_DIR at a directory holding the IDX .gz files";

void check_exists(const std::filesystem::path& path, const char* what) {
  std::error_code ec;
  check(std::filesystem::exists(path, ec), "Fashion-MNIST ", what, " '", path.string(),
        "' does not exist; ", kInstallHint);
}

}  // namespace

std::string fashion_mnist_dir(const std::string& dir) {
  if (!dir.empty()) return dir;
  const char* env = std::getenv(kFashionMnistDirEnv);
  if (env != nullptr && *env != '\0') return env;
  return kFashionMnistDefaultDir;
}

std::shared_ptr<TensorDataset> load_fashion_mnist(const std::string& split,
                                                  const std::string& dir, double mean,
                                                  double std) {
  check(split == "train" || split == "test", "unknown Fashion-MNIST split '", split,
        "'; valid values are train, test");
  check(std::isfinite(mean), "Fashion-MNIST normalisation mean must be finite, got ", mean);
  check(std::isfinite(std) && std > 0, "Fashion-MNIST normalisation std must be positive, got ",
        std);
  const std::filesystem::path root = fashion_mnist_dir(dir);
  check_exists(root, "directory");
  const std::string prefix = split == "train" ? "train" : "t10k";
  const std::string image_path = (root / (prefix + "-images-idx3-ubyte.gz")).string();
  const std::string label_path = (root / (prefix + "-labels-idx1-ubyte.gz")).string();
  check_exists(image_path, "file");
  check_exists(label_path, "file");

  IdxArray images = read_idx(image_path, 3);
  check(images.dims[1] == kSide && images.dims[2] == kSide, "'", image_path, "' holds ",
        images.dims[1], " x ", images.dims[2], " images, expected 28 x 28");
  IdxArray labels = read_idx(label_path, 1);
  check(images.dims[0] == labels.dims[0], "'", image_path, "' has ", images.dims[0],
        " images but '", label_path, "' has ", labels.dims[0],
        " labels; expected the same count (are the files from different splits?)");
  if (labels.dims[0] > 0) {
    const int64_t max_label = labels.data.max().item<int64_t>();
    if (max_label >= kClasses) {
      const int64_t at = labels.data.ge(kClasses).nonzero()[0][0].item<int64_t>();
      fail("'", label_path, "' has label ", labels.data[at].item<int64_t>(), " at index ", at,
           "; expected labels 0..9");
    }
  }

  at::Tensor x = images.data.to(at::kFloat).unsqueeze(1);  // [N,1,28,28]
  x.div_(255.0).sub_(mean).div_(std);
  const double black = (0.0 - mean) / std;
  return std::make_shared<TensorDataset>(x, labels.data.to(at::kLong), kClasses,
                                         str_cat("fashion-mnist/", split), black);
}

}  // namespace vitc
