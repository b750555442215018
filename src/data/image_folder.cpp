// Image folder scanning and parallel decoding of batches.
#include "data/image_folder.h"

#include <algorithm>
#include <cctype>
#include <exception>
#include <filesystem>
#include <set>
#include <thread>

#include "data/random.h"
#include "io/image_decode.h"
#include "util/error.h"
#include "util/threads.h"

namespace vitc {

namespace fs = std::filesystem;

bool has_image_extension(const std::string& name) {
  std::string ext = fs::path(name).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

namespace {

// Image files below `dir`, relative to `base`, sorted. Links to directories are followed, but
// each real directory is listed once: one reached again (a link loop, or a second link to the
// same folder) is skipped, so no image is counted twice.
std::vector<std::string> find_images(const fs::path& dir, const fs::path& base) {
  std::vector<std::string> found;
  std::error_code ec;
  std::set<fs::path> listed = {fs::canonical(dir, ec)};
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::follow_directory_symlink, ec), end;
       !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec)) {
      std::error_code canonical_ec;
      const fs::path real = fs::canonical(it->path(), canonical_ec);
      if (canonical_ec || !listed.insert(real).second) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec) && has_image_extension(it->path().filename().string())) {
      found.push_back(fs::relative(it->path(), base).string());
    }
  }
  check(!ec, "cannot list directory '", dir.string(), "': ", ec.message());
  std::sort(found.begin(), found.end());
  return found;
}

// Runs fn(i) for i in [0, n) on up to `threads` threads; the first error by index is rethrown
// after all threads finish (so a failure never leaves a thread writing into a dead batch).
template <typename Fn>
void parallel_indexed(int64_t n, int threads, Fn fn) {
  const int count = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(n, threads)));
  std::vector<std::exception_ptr> errors(static_cast<size_t>(n));
  auto work = [&](int t) {
    for (int64_t i = t; i < n; i += count) {
      try {
        fn(i);
      } catch (...) {
        errors[static_cast<size_t>(i)] = std::current_exception();
      }
    }
  };
  if (count == 1) {
    work(0);
  } else {
    std::vector<std::thread> pool;
    for (int t = 0; t < count; ++t) pool.emplace_back(work, t);
    for (auto& th : pool) th.join();
  }
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

int decode_threads(const ImageFolderOptions& o) {
  return o.decode_threads > 0 ? o.decode_threads : std::max(1, hardware_cores());
}

void check_options(const ImageFolderOptions& o, const std::string& who) {
  check(o.image_size > 0, who, ": image size must be positive, got ", o.image_size);
  check(o.channels == 1 || o.channels == 3, who, ": images are decoded to 1 or 3 channels but the "
        "model takes ", o.channels);
  check(static_cast<int>(o.mean.size()) == o.channels && static_cast<int>(o.std.size()) == o.channels,
        who, ": mean and std need ", o.channels, " values, got ", o.mean.size(), " and ",
        o.std.size());
  check(o.crop_pct > 0 && o.crop_pct <= 1, who, ": crop_pct must be in (0, 1], got ", o.crop_pct);
  check(o.decode_threads >= 0, who, ": decode threads must be >= 0, got ", o.decode_threads);
}

// Decodes one file and applies the evaluation transform, or the training one when `rng` is set.
at::Tensor load_one(const std::string& path, const ImageFolderOptions& o, std::mt19937_64* rng) {
  const at::Tensor pixels = image_to_tensor(read_image(path, o.channels));
  const at::Tensor out = rng != nullptr ? train_transform(pixels, o.image_size, o.crop, *rng)
                                        : eval_transform(pixels, o.image_size, o.crop_pct);
  return normalize_pixels(out, o.mean, o.std);
}

const char* kSkipHint = " (vitc's --skip-bad-images leaves unreadable images out)";

}  // namespace

ImageFolderDataset::ImageFolderDataset(std::string root, ImageFolderOptions options)
    : root_(std::move(root)), options_(std::move(options)) {
  check_options(options_, "image folder '" + root_ + "'");
  check(fs::is_directory(root_), "image folder '", root_, "' does not exist or is not a directory");
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.empty() && name[0] != '.' && entry.is_directory(ec)) classes_.push_back(name);
  }
  check(!ec, "cannot list image folder '", root_, "': ", ec.message());
  check(!classes_.empty(), "image folder '", root_, "' has no class directories; expected the "
        "ImageNet layout <root>/<class>/<image>.jpg|.png");
  std::sort(classes_.begin(), classes_.end());
  std::vector<int64_t> labels;
  for (size_t c = 0; c < classes_.size(); ++c) {
    const std::vector<std::string> images = find_images(fs::path(root_) / classes_[c], root_);
    check(!images.empty(), "image folder '", root_, "': class directory '", classes_[c],
          "' has no .jpg, .jpeg or .png files");
    files_.insert(files_.end(), images.begin(), images.end());
    labels.insert(labels.end(), images.size(), static_cast<int64_t>(c));
  }
  labels_ = at::tensor(labels, at::kLong);
}

const std::string& ImageFolderDataset::relative_path(int64_t i) const {
  check(i >= 0 && i < size(), name(), ": image index ", i, " out of range [0, ", size(), ")");
  return files_[static_cast<size_t>(i)];
}

Batch ImageFolderDataset::load(const std::vector<int64_t>& indices, const uint64_t* seed) const {
  check_indices(indices, size(), name());
  const int64_t n = static_cast<int64_t>(indices.size());
  const int64_t s = options_.image_size;
  Batch batch{at::empty({n, options_.channels, s, s}, at::kFloat),
              labels_.index_select(0, index_tensor(indices))};
  parallel_indexed(n, decode_threads(options_), [&](int64_t i) {
    const std::string path = (fs::path(root_) / files_[static_cast<size_t>(indices[i])]).string();
    try {
      if (seed != nullptr) {
        // One stream per batch position: the crops do not depend on the thread count.
        std::mt19937_64 rng(derive_seed({*seed, static_cast<uint64_t>(i)}));
        batch.images[i].copy_(load_one(path, options_, &rng));
      } else {
        batch.images[i].copy_(load_one(path, options_, nullptr));
      }
    } catch (const Error& e) {
      throw Error(str_cat(e.what(), kSkipHint));
    }
  });
  return batch;
}

Batch ImageFolderDataset::get_batch(const std::vector<int64_t>& indices) const {
  return load(indices, nullptr);
}

Batch ImageFolderDataset::get_augmented_batch(const std::vector<int64_t>& indices,
                                              uint64_t seed) const {
  return options_.train_transform ? load(indices, &seed) : load(indices, nullptr);
}

std::vector<int64_t> ImageFolderDataset::readable(const std::vector<int64_t>& indices,
                                                  std::vector<std::string>& bad) const {
  check_indices(indices, size(), name());
  const int64_t n = static_cast<int64_t>(indices.size());
  std::vector<std::string> messages(static_cast<size_t>(n));
  parallel_indexed(n, decode_threads(options_), [&](int64_t i) {
    const std::string path = (fs::path(root_) / files_[static_cast<size_t>(indices[i])]).string();
    try {
      read_image(path, options_.channels);
    } catch (const Error& e) {
      messages[static_cast<size_t>(i)] = e.what();
    }
  });
  std::vector<int64_t> good;
  for (int64_t i = 0; i < n; ++i) {
    if (messages[static_cast<size_t>(i)].empty()) {
      good.push_back(indices[static_cast<size_t>(i)]);
    } else {
      bad.push_back(messages[static_cast<size_t>(i)]);
    }
  }
  return good;
}

std::vector<std::string> list_image_files(const std::vector<std::string>& paths) {
  check(!paths.empty(), "no input images given");
  std::vector<std::string> files;
  for (const std::string& p : paths) {
    if (fs::is_directory(p)) {
      const std::vector<std::string> found = find_images(p, p);
      check(!found.empty(), "directory '", p, "' has no .jpg, .jpeg or .png files");
      for (const std::string& f : found) files.push_back((fs::path(p) / f).string());
    } else {
      check(fs::is_regular_file(p), "input '", p, "' is neither an image file nor a directory");
      files.push_back(p);
    }
  }
  return files;
}

at::Tensor load_images(const std::vector<std::string>& files, const ImageFolderOptions& options) {
  check_options(options, "image input");
  const int64_t n = static_cast<int64_t>(files.size());
  const int64_t s = options.image_size;
  at::Tensor images = at::empty({n, options.channels, s, s}, at::kFloat);
  parallel_indexed(n, decode_threads(options), [&](int64_t i) {
    images[i].copy_(load_one(files[static_cast<size_t>(i)], options, nullptr));
  });
  return images;
}

}  // namespace vitc
