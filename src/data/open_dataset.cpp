// Opening a data set split as a command names it: Fashion-MNIST, an image folder or a
// .safetensors batch, with an optional seeded subset or per-class choice, and the record of what
// was chosen (for run.json).
#include "data/open_dataset.h"

#include <cstdio>
#include <filesystem>

#include "data/fashion_mnist.h"
#include "data/image_folder.h"
#include "data/sampling.h"
#include "data/tensor_file.h"
#include "util/error.h"

namespace vitc {

namespace {

// The class root of an image folder for `split`: <dir>/train for training, <dir>/val or
// <dir>/test for evaluation when the folder has such splits, else the folder itself.
std::string image_folder_split(const std::string& dir, const std::string& split) {
  namespace fs = std::filesystem;
  const bool has_splits = fs::is_directory(dir + "/train") || fs::is_directory(dir + "/val") ||
                          fs::is_directory(dir + "/test");
  if (!has_splits) return dir;
  const std::vector<std::string> names =
      split == "train" ? std::vector<std::string>{"train"} : std::vector<std::string>{"val", "test"};
  for (const std::string& name : names) {
    if (fs::is_directory(dir + "/" + name)) return dir + "/" + name;
  }
  fail("image folder '", dir, "' has split folders but no ", join(names, " or "), "/ for the ",
       split, " split");
}

bool ends_with_safetensors(const std::string& path) {
  const std::string ext = ".safetensors";
  return path.size() > ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0;
}

}  // namespace

OpenedSplit open_dataset(const std::string& split, const DataChoice& choice,
                         const std::vector<double>& mean, const std::vector<double>& std,
                         int64_t image_size) {
  const bool train = split == "train";
  const std::string& data = choice.data;
  const int64_t subset = choice.subset, per_class = choice.per_class;
  const uint64_t subset_seed = choice.seed;
  check(subset == 0 || per_class == 0, "--", train ? "train" : "eval", "-subset and --",
        train ? "train" : "eval", "-per-class cannot be combined; choose one");
  const int channels = static_cast<int>(mean.size());
  std::shared_ptr<const Dataset> full;
  std::shared_ptr<const ImageFolderDataset> folder;
  nlohmann::json record = {{"split", split}};
  if (data == "fashion-mnist") {
    check(mean.size() == 1 && std.size() == 1,
          "fashion-mnist has 1 channel but the model expects ", mean.size());
    full = load_fashion_mnist(split, choice.data_dir, mean[0], std[0]);
  } else if (std::filesystem::is_directory(data)) {
    ImageFolderOptions options;
    options.image_size = image_size;
    options.channels = channels;
    options.mean = mean;
    options.std = std;
    options.crop_pct = choice.crop_pct > 0 ? choice.crop_pct : 0.875;
    options.train_transform = train && choice.deit_train_transform;
    options.decode_threads = choice.decode_threads;
    folder = std::make_shared<ImageFolderDataset>(image_folder_split(data, split), options);
    full = folder;
    record["root"] = folder->root();
    record["classes"] = folder->num_classes();
    record["transform"] = options.train_transform
                              ? std::string("deit train: random resized crop + flip")
                              : str_cat("deit eval: bicubic resize to ", image_size, "/",
                                        options.crop_pct, ", center crop ", image_size);
  } else if (std::filesystem::is_regular_file(data) && ends_with_safetensors(data)) {
    full = load_tensor_dataset(data, channels, image_size, mean, std);
  } else {
    fail("unknown data set '", data, "'; valid values are: fashion-mnist, an image folder "
         "(<root>/<class>/<image>) or a .safetensors file");
  }
  record["images_available"] = full->size();
  check(full->size() > 0, "the ", split, " split of ", full->name(),
        " holds no images; there is nothing to ", train ? "train on" : "evaluate");

  std::vector<int64_t> indices;
  bool chosen = false;
  if (per_class > 0) {
    indices = sample_per_class(*full, per_class, subset_seed);
    chosen = true;
    record["per_class"] = per_class;
  } else if (subset > 0 && subset < full->size()) {
    indices = sample_subset(*full, subset, subset_seed);
    chosen = true;
    record["subset"] = subset;
  }
  if (chosen) record["seed"] = subset_seed;
  if (folder != nullptr && choice.skip_bad_images) {
    if (!chosen) {
      indices.resize(static_cast<size_t>(full->size()));
      for (size_t i = 0; i < indices.size(); ++i) indices[i] = static_cast<int64_t>(i);
    }
    std::vector<std::string> bad;
    indices = folder->readable(indices, bad);
    for (const std::string& message : bad) std::fprintf(stderr, "skipped: %s\n", message.c_str());
    if (!bad.empty()) {
      std::fprintf(stderr, "skipped %zu unreadable image(s) of %s\n", bad.size(),
                   folder->root().c_str());
    }
    record["skipped_images"] = bad;
    chosen = chosen || !bad.empty();
  }
  if (!chosen) return {full, record};
  // The choice itself, so that a run can be checked or repeated image for image.
  constexpr size_t kMaxListed = 20000;
  if (indices.size() <= kMaxListed) {
    record["indices"] = indices;
    if (folder != nullptr) {
      std::vector<std::string> files;
      for (int64_t i : indices) files.push_back(folder->relative_path(i));
      record["files"] = files;
    }
  }
  record["images_used"] = indices.size();
  check(!indices.empty(), "no images left to use from ", full->name());
  return {make_subset(full, indices), record};
}


}  // namespace vitc
