// Batch augmentation: random crop from a zero-padded image and horizontal flip, seeded per batch.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/ATen.h>

#include "util/settings.h"

namespace vitc {

namespace setting {
inline const Setting kPad{"pad", "random-crop padding in pixels (0 = off)", Range::at_least(0),
                          "augment_pad"};
inline const Setting kHflip{"hflip", "random horizontal flips", Range::any(), "augment_hflip"};
}  // namespace setting

struct AugmentOptions {
  int pad = 0;         // random crop back to H x W from the image padded by this much (0 = off)
  bool hflip = false;  // flip each image horizontally with probability 1/2

  template <class Self, class Visitor>
  static void visit_settings(Self& self, Visitor& v) {
    v(setting::kPad, self.pad);
    v(setting::kHflip, self.hflip);
  }
};

inline bool augment_enabled(const AugmentOptions& options) {
  return options.pad > 0 || options.hflip;
}

// What augmentation does to each image of a batch: crop offset into the padded image
// (0..2*pad each; pad,pad is the unshifted image) and whether to flip after cropping.
struct AugmentDraws {
  std::vector<int64_t> top;
  std::vector<int64_t> left;
  std::vector<uint8_t> flip;
};

// Draws offsets and flips for `batch` images from std::mt19937_64(seed), image by image, so the
// result depends only on the seed (the loader derives it from seed, epoch and batch slot).
AugmentDraws draw_augment(int64_t batch, const AugmentOptions& options, uint64_t seed);

// Applies `draws` to images [B,C,H,W] as whole-batch tensor ops; padding uses `fill`, the
// normalised value of black. Returns a new tensor, or `images` itself if nothing changes.
at::Tensor apply_augment(const at::Tensor& images, const AugmentDraws& draws, int pad,
                         double fill);

// draw_augment + apply_augment.
at::Tensor augment_images(const at::Tensor& images, const AugmentOptions& options, double fill,
                          uint64_t seed);

}  // namespace vitc
