// Opening a split of the data a command names (--data): Fashion-MNIST, an image folder
// (<root>/<class>/<image>, or with train/ and val/ or test/ splits) or a .safetensors batch;
// optionally a seeded subset or N images per class; and a record of what was chosen.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.h"

namespace vitc {

// What to read for one split.
struct DataChoice {
  std::string data = "fashion-mnist";  // fashion-mnist, an image folder or a .safetensors file
  std::string data_dir;                // Fashion-MNIST's directory ("" = Debian's)
  int64_t subset = 0;                  // a seeded subset of this many images (0 = all)
  int64_t per_class = 0;               // or N seeded images of every class (0 = off)
  uint64_t seed = 0;                   // of the subset
  bool skip_bad_images = false;        // image folders: leave unreadable images out
  double crop_pct = 0;                 // image folders: 0 = 0.875
  bool deit_train_transform = false;   // image folders' training split: DeiT's augmentation
  int decode_threads = 0;              // 0 = one per core
};

struct OpenedSplit {
  std::shared_ptr<const Dataset> data;
  // {"split", "images_available", ...; with a choice: "subset"/"per_class", "seed", "indices"
  // (and "files" for image folders) up to 20000 images, "images_used", "skipped_images"}
  nlohmann::json record;
};

// `split` is "train" or "test"; `mean`/`std` the model's normalisation (their size is its
// channel count) and `image_size` its input side. Throws vitc::Error naming the data set, the
// split or the flag when something is wrong or no image is left.
OpenedSplit open_dataset(const std::string& split, const DataChoice& choice,
                         const std::vector<double>& mean, const std::vector<double>& std,
                         int64_t image_size);

}  // namespace vitc
