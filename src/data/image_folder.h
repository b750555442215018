// An ImageNet-layout image folder (<root>/<class>/<image>, JPEG or PNG) as a Dataset, decoded
// lazily and in parallel, with DeiT's evaluation and training transforms.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/transforms.h"
#include "util/input_stats.h"

namespace vitc {

struct ImageFolderOptions {
  int64_t image_size = 224;  // the model's input side
  int channels = 3;          // the model's input channels: 3 (RGB) or 1 (gray)
  std::vector<double> mean = imagenet_mean();
  std::vector<double> std = imagenet_std();
  double crop_pct = 0.875;  // evaluation: resize the short side to image_size / crop_pct
  // get_augmented_batch (the DataLoader's path) applies the training transform when true; it
  // applies the evaluation transform when false. get_batch always applies the evaluation one.
  bool train_transform = false;
  RandomResizedCropOptions crop;
  int decode_threads = 0;  // threads decoding one batch; 0 = one per core
};

// Usage:
//   auto val = std::make_shared<ImageFolderDataset>("imagenet/val", options);
//   Batch b = val->get_batch({0, 1, 2});   // [3, C, S, S] normalised, labels by class folder
// Classes are the sub-directories of `root` in byte order (as torchvision's ImageFolder), so
// an ImageNet val folder of synset directories gets ImageNet-1k's class indices. Images are
// the files with extension .jpg, .jpeg or .png (any case) anywhere below a class directory,
// sorted by path; other files are ignored. The format is read from the file's bytes.
class ImageFolderDataset : public Dataset {
 public:
  // Scans the folder; errors name `root` (missing, no class directories, a class without
  // images) and the options that are wrong.
  ImageFolderDataset(std::string root, ImageFolderOptions options);

  int64_t size() const override { return static_cast<int64_t>(files_.size()); }
  int num_classes() const override { return static_cast<int>(classes_.size()); }
  std::string name() const override { return "image folder " + root_; }
  // Decodes in parallel; an unreadable image throws vitc::Error naming its path.
  Batch get_batch(const std::vector<int64_t>& indices) const override;
  Batch get_augmented_batch(const std::vector<int64_t>& indices, uint64_t seed) const override;
  at::Tensor labels() const override { return labels_; }
  double fill_value() const override { return -options_.mean[0] / options_.std[0]; }

  const std::string& root() const { return root_; }
  const std::vector<std::string>& classes() const { return classes_; }
  // Path of image i relative to root, e.g. "n01440764/ILSVRC2012_val_00000293.JPEG".
  const std::string& relative_path(int64_t i) const;
  const ImageFolderOptions& options() const { return options_; }

  // Decodes the images of `indices` (in parallel) and returns those that decode; the paths of
  // the others, with the decoder's message, are appended to `bad` ("path: message").
  std::vector<int64_t> readable(const std::vector<int64_t>& indices,
                                std::vector<std::string>& bad) const;

 private:
  Batch load(const std::vector<int64_t>& indices, const uint64_t* seed) const;

  std::string root_;
  ImageFolderOptions options_;
  std::vector<std::string> classes_;
  std::vector<std::string> files_;  // relative to root_
  at::Tensor labels_;
};

// Image files given one by one or found under directories (recursively, sorted), with label 0:
// what `vitc predict` runs on. Errors name a path that is neither an image file nor a directory,
// or a directory without images.
std::vector<std::string> list_image_files(const std::vector<std::string>& paths);

// The DeiT evaluation transform applied to image files: [N, C, S, S] normalised. Decoding runs
// in parallel (`options.decode_threads`); an unreadable image throws naming its path.
at::Tensor load_images(const std::vector<std::string>& files, const ImageFolderOptions& options);

// True for a file name ending in .jpg, .jpeg or .png (any case).
bool has_image_extension(const std::string& name);

}  // namespace vitc
