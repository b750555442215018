// A batch of model inputs stored in a safetensors file: what `vitc predict` and `vitc eval` read
// when the images were prepared elsewhere (e.g. by a PyTorch pipeline).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace vitc {

// The file holds a tensor "images" (or exactly one tensor of any name) of shape [N, C, H, W]:
//   float32/float16/bfloat16/float64: the model's input as it is (already normalised);
//   uint8: pixels 0..255, normalised here with (x / 255 - mean) / std.
// and optionally "labels" [N] (any integer dtype). `channels` and `size` are the model's input
// shape; a mismatch, a missing or ambiguous tensor, or labels of the wrong shape throw
// vitc::Error naming the file and the tensor.
struct TensorBatch {
  at::Tensor images;  // [N, C, H, W] float32
  at::Tensor labels;  // [N] int64, undefined when the file has none
};
TensorBatch read_tensor_batch(const std::string& path, int channels, int64_t size,
                              const std::vector<double>& mean, const std::vector<double>& std);

// The batch as a labelled data set (labels required; num_classes = the largest label + 1,
// at least `min_classes`).
std::shared_ptr<TensorDataset> load_tensor_dataset(const std::string& path, int channels,
                                                   int64_t size, const std::vector<double>& mean,
                                                   const std::vector<double>& std,
                                                   int min_classes = 1);

}  // namespace vitc
