// Reading a safetensors batch of images (and labels) with shape and dtype checks.
#include "data/tensor_file.h"

#include <algorithm>

#include "data/transforms.h"
#include "io/safetensors.h"
#include "util/error.h"

namespace vitc {

TensorBatch read_tensor_batch(const std::string& path, int channels, int64_t size,
                              const std::vector<double>& mean, const std::vector<double>& std) {
  const SafetensorsFile file = read_safetensors(path);
  const TensorMap& t = file.tensors;
  at::Tensor images;
  if (t.count("images")) {
    images = t.at("images");
  } else {
    std::vector<std::string> names;
    for (const auto& [name, tensor] : t) {
      if (name != "labels") names.push_back(name);
    }
    check(names.size() == 1, "'", path, "' must hold a tensor named \"images\" (or exactly one "
          "tensor besides \"labels\"); it holds: ", names.empty() ? "nothing" : join(names));
    images = t.at(names[0]);
  }
  check(images.dim() == 4 && images.size(1) == channels && images.size(2) == size &&
            images.size(3) == size,
        "'", path, "': the images must have shape [N, ", channels, ", ", size, ", ", size,
        "] for this model, got ", images.sizes());
  TensorBatch batch;
  if (images.scalar_type() == at::kByte) {
    batch.images = normalize_pixels(images, mean, std);
  } else {
    check(at::isFloatingType(images.scalar_type()), "'", path,
          "': images must be float (model input) or uint8 (pixels), got ", images.scalar_type());
    batch.images = images.to(at::kFloat).contiguous();
  }
  if (t.count("labels")) {
    const at::Tensor& labels = t.at("labels");
    check(labels.dim() == 1 && labels.size(0) == images.size(0) &&
              !at::isFloatingType(labels.scalar_type()) && labels.scalar_type() != at::kBool,
          "'", path, "': \"labels\" must be an integer tensor of shape [", images.size(0),
          "], got ", labels.scalar_type(), " ", labels.sizes());
    batch.labels = labels.to(at::kLong).contiguous();
  }
  return batch;
}

std::shared_ptr<TensorDataset> load_tensor_dataset(const std::string& path, int channels,
                                                   int64_t size, const std::vector<double>& mean,
                                                   const std::vector<double>& std,
                                                   int min_classes) {
  TensorBatch batch = read_tensor_batch(path, channels, size, mean, std);
  check(batch.labels.defined(), "'", path, "' has no \"labels\" tensor; evaluating or training "
        "needs one label per image");
  check(batch.labels.numel() == 0 || batch.labels.min().item<int64_t>() >= 0, "'", path,
        "': labels must not be negative");
  const int64_t top = batch.labels.numel() > 0 ? batch.labels.max().item<int64_t>() + 1 : 1;
  const int classes = static_cast<int>(std::max<int64_t>(top, min_classes));
  const double fill = -mean[0] / std[0];
  return std::make_shared<TensorDataset>(batch.images, batch.labels, classes, "tensor file " + path,
                                         fill);
}

}  // namespace vitc
