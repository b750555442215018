// Fashion-MNIST from the IDX gzip files of Debian's dataset-fashion-mnist package.
#pragma once

#include <memory>
#include <string>

#include "data/dataset.h"
#include "util/input_stats.h"

namespace vitc {

inline constexpr const char* kFashionMnistDefaultDir = "/usr/share/datasets/fashion-mnist";
inline constexpr const char* kFashionMnistDirEnv = "VITC_FASHION_MNIST_DIR";

// The directory load_fashion_mnist reads when given "": $VITC_FASHION_MNIST_DIR if set and not
// empty, else kFashionMnistDefaultDir.
std::string fashion_mnist_dir(const std::string& dir = "");

// Reads split "train" (60000 images) or "test" (10000) as [N,1,28,28] float32 images scaled to
// [0,1] then normalised with (x - mean) / std, and [N] int64 labels in 0..9.
// A missing directory or file is an error naming the path and the Debian package to install;
// corrupt files (bad magic, wrong dimensions, truncated, image/label count mismatch,
// label >= 10) are errors naming the file.
std::shared_ptr<TensorDataset> load_fashion_mnist(const std::string& split,
                                                  const std::string& dir = "",
                                                  double mean = kFashionMnistMean,
                                                  double std = kFashionMnistStd);

}  // namespace vitc
