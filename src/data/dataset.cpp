// TensorDataset validation and gathering; index subsets of any Dataset.
#include "data/dataset.h"

#include <utility>

#include "util/error.h"

namespace vitc {

void check_indices(const std::vector<int64_t>& indices, int64_t size, const std::string& what) {
  for (size_t i = 0; i < indices.size(); ++i) {
    check(indices[i] >= 0 && indices[i] < size, what, ": index ", indices[i], " (position ", i,
          ") is out of range; expected 0 <= index < ", size);
  }
}

at::Tensor index_tensor(const std::vector<int64_t>& indices) {
  // from_blob does not own the memory, so clone before the vector can go away.
  return at::from_blob(const_cast<int64_t*>(indices.data()),
                       {static_cast<int64_t>(indices.size())}, at::kLong)
      .clone();
}

TensorDataset::TensorDataset(at::Tensor images, at::Tensor labels, int num_classes,
                             std::string name, double fill_value)
    : num_classes_(num_classes), name_(std::move(name)), fill_value_(fill_value) {
  check(images.defined() && labels.defined(), name_, ": images and labels must be defined");
  check(images.dim() == 4, name_, ": images must be [N,C,H,W], got ", images.dim(),
        " dimensions ", images.sizes());
  check(images.scalar_type() == at::kFloat, name_, ": images must be float32, got ",
        images.scalar_type());
  check(labels.dim() == 1, name_, ": labels must be [N], got shape ", labels.sizes());
  check(labels.scalar_type() == at::kLong, name_, ": labels must be int64, got ",
        labels.scalar_type());
  check(images.size(0) == labels.size(0), name_, ": ", images.size(0), " images but ",
        labels.size(0), " labels; expected one label per image");
  check(num_classes > 0, name_, ": num_classes must be positive, got ", num_classes);
  images_ = images.device().is_cpu() ? images.contiguous() : images.cpu().contiguous();
  labels_ = labels.device().is_cpu() ? labels.contiguous() : labels.cpu().contiguous();
  if (labels_.numel() > 0) {
    const int64_t lo = labels_.min().item<int64_t>();
    const int64_t hi = labels_.max().item<int64_t>();
    check(lo >= 0 && hi < num_classes, name_, ": labels range over [", lo, ", ", hi,
          "]; expected 0 <= label < num_classes = ", num_classes);
  }
}

Batch TensorDataset::get_batch(const std::vector<int64_t>& indices) const {
  check_indices(indices, size(), name_);
  const at::Tensor index = index_tensor(indices);
  return Batch{images_.index_select(0, index), labels_.index_select(0, index)};
}

namespace {

// Indices into a parent dataset; the parent is kept alive by the shared_ptr.
class SubsetDataset : public Dataset {
 public:
  SubsetDataset(std::shared_ptr<const Dataset> parent, std::vector<int64_t> indices)
      : parent_(std::move(parent)), indices_(std::move(indices)) {
    check_indices(indices_, parent_->size(), str_cat("subset of ", parent_->name()));
    labels_ = parent_->labels().index_select(0, index_tensor(indices_));
  }

  int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
  int num_classes() const override { return parent_->num_classes(); }
  std::string name() const override {
    return str_cat(parent_->name(), " (subset of ", indices_.size(), ")");
  }
  Batch get_batch(const std::vector<int64_t>& indices) const override {
    check_indices(indices, size(), name());
    std::vector<int64_t> mapped(indices.size());
    for (size_t i = 0; i < indices.size(); ++i) {
      mapped[i] = indices_[static_cast<size_t>(indices[i])];
    }
    return parent_->get_batch(mapped);
  }
  Batch get_augmented_batch(const std::vector<int64_t>& indices, uint64_t seed) const override {
    check_indices(indices, size(), name());
    std::vector<int64_t> mapped(indices.size());
    for (size_t i = 0; i < indices.size(); ++i) {
      mapped[i] = indices_[static_cast<size_t>(indices[i])];
    }
    return parent_->get_augmented_batch(mapped, seed);
  }
  at::Tensor labels() const override { return labels_; }
  double fill_value() const override { return parent_->fill_value(); }

 private:
  std::shared_ptr<const Dataset> parent_;
  std::vector<int64_t> indices_;
  at::Tensor labels_;
};

}  // namespace

std::shared_ptr<Dataset> make_subset(std::shared_ptr<const Dataset> data,
                                     std::vector<int64_t> indices) {
  check(data != nullptr, "make_subset: the dataset is null");
  return std::make_shared<SubsetDataset>(std::move(data), std::move(indices));
}

}  // namespace vitc
