// Labelled image sets: the abstract Dataset, the in-memory TensorDataset and index subsets.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ATen/ATen.h>

namespace vitc {

// A labelled image set held as tensors, normalisation already applied.
struct Batch {
  at::Tensor images;  // [B,C,H,W] float32
  at::Tensor labels;  // [B] int64
  // This batch on `device` (the same tensors when it is already there).
  Batch to(const c10::Device& device) const { return {images.to(device), labels.to(device)}; }
};

// Abstract so that image folders (decoded lazily) can come later behind the same interface.
// get_batch may be called from the DataLoader's background thread while the owner uses the
// other const methods: implementations must keep const methods safe to call concurrently.
class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  virtual int num_classes() const = 0;
  virtual std::string name() const = 0;
  // Normalised images and labels of `indices`, in that order; no augmentation.
  virtual Batch get_batch(const std::vector<int64_t>& indices) const = 0;
  // The batch the DataLoader trains on: datasets whose augmentation needs the original image
  // (an image folder's random resized crop) apply it here, drawn from `seed` (derived by the
  // loader from its seed, the epoch and the batch slot). Default: get_batch, no augmentation.
  virtual Batch get_augmented_batch(const std::vector<int64_t>& indices, uint64_t seed) const {
    return get_batch(indices);
  }
  // All labels, [N] int64 (for class-balanced subsets).
  virtual at::Tensor labels() const = 0;
  // The normalised value of a black pixel (raw 0): what augmentation pads with.
  virtual double fill_value() const { return 0.0; }
};

// Images [N,C,H,W] float32 (already normalised) and labels [N] int64 in memory.
class TensorDataset : public Dataset {
 public:
  // Checks shapes, dtypes and that every label lies in [0, num_classes); `name` is used in
  // error messages. `fill_value` is the normalised value of black (see Dataset::fill_value).
  TensorDataset(at::Tensor images, at::Tensor labels, int num_classes, std::string name,
                double fill_value = 0.0);

  int64_t size() const override { return labels_.size(0); }
  int num_classes() const override { return num_classes_; }
  std::string name() const override { return name_; }
  Batch get_batch(const std::vector<int64_t>& indices) const override;
  at::Tensor labels() const override { return labels_; }
  double fill_value() const override { return fill_value_; }

  // The whole image tensor [N,C,H,W] (shared, not copied).
  const at::Tensor& images() const { return images_; }

 private:
  at::Tensor images_;
  at::Tensor labels_;
  int num_classes_;
  std::string name_;
  double fill_value_;
};

// Throws vitc::Error unless every index lies in [0, size); `what` names the dataset.
void check_indices(const std::vector<int64_t>& indices, int64_t size, const std::string& what);

// The indices as an int64 CPU tensor (a copy), ready for index_select.
at::Tensor index_tensor(const std::vector<int64_t>& indices);

// A view of `data` restricted to `indices` (in that order; duplicates allowed). Shares the parent.
std::shared_ptr<Dataset> make_subset(std::shared_ptr<const Dataset> data,
                                     std::vector<int64_t> indices);

}  // namespace vitc
