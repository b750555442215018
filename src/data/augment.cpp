// Augmentation as one gather over the padded batch: each output pixel's source index is computed
// from its image's crop offset and flip, so the batch needs no per-image tensor ops.
#include "data/augment.h"

#include <random>

#include "data/random.h"
#include "util/error.h"

namespace vitc {

AugmentDraws draw_augment(int64_t batch, const AugmentOptions& options, uint64_t seed) {
  check(batch >= 0, "augmentation: batch size must not be negative, got ", batch);
  check(options.pad >= 0, "augmentation: pad must be >= 0, got ", options.pad);
  const size_t n = static_cast<size_t>(batch);
  AugmentDraws draws{std::vector<int64_t>(n, options.pad), std::vector<int64_t>(n, options.pad),
                     std::vector<uint8_t>(n, 0)};
  std::mt19937_64 rng(seed);
  const uint64_t positions = 2 * static_cast<uint64_t>(options.pad) + 1;
  for (size_t i = 0; i < n; ++i) {
    if (options.pad > 0) {
      draws.top[i] = static_cast<int64_t>(uniform_below(rng, positions));
      draws.left[i] = static_cast<int64_t>(uniform_below(rng, positions));
    }
    if (options.hflip) draws.flip[i] = static_cast<uint8_t>(uniform_below(rng, 2));
  }
  return draws;
}

at::Tensor apply_augment(const at::Tensor& images, const AugmentDraws& draws, int pad,
                         double fill) {
  check(images.dim() == 4, "augmentation: images must be [B,C,H,W], got shape ", images.sizes());
  const int64_t b = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  check(draws.top.size() == static_cast<size_t>(b) && draws.left.size() == draws.top.size() &&
            draws.flip.size() == draws.top.size(),
        "augmentation: draws for ", draws.top.size(), " images, the batch has ", b);
  check(pad >= 0 && pad <= h && pad <= w, "augmentation: pad ", pad,
        " is out of range; expected 0 <= pad <= image side (", h, " x ", w, ")");
  bool any_flip = false;
  for (size_t i = 0; i < draws.top.size(); ++i) {
    check(draws.top[i] >= 0 && draws.top[i] <= 2 * pad && draws.left[i] >= 0 &&
              draws.left[i] <= 2 * pad,
          "augmentation: crop offset (", draws.top[i], ", ", draws.left[i], ") of image ", i,
          " is outside 0..", 2 * pad);
    any_flip = any_flip || draws.flip[i] != 0;
  }
  if (b == 0 || (pad == 0 && !any_flip)) return images;

  const at::Tensor padded =
      pad > 0 ? at::constant_pad_nd(images, {pad, pad, pad, pad}, fill) : images.contiguous();
  const int64_t padded_w = w + 2 * pad;
  // Source index in the flattened padded image of output pixel (y, x) of image i:
  //   (top_i + y) * padded_w + left_i + (flip_i ? w - 1 - x : x)
  at::Tensor source = at::empty({b, 1, h * w}, at::kLong);
  int64_t* out = source.data_ptr<int64_t>();
  for (int64_t i = 0; i < b; ++i) {
    const int64_t top = draws.top[static_cast<size_t>(i)];
    const int64_t left = draws.left[static_cast<size_t>(i)];
    const bool flip = draws.flip[static_cast<size_t>(i)] != 0;
    for (int64_t y = 0; y < h; ++y) {
      const int64_t row = (top + y) * padded_w + left;
      for (int64_t x = 0; x < w; ++x) *out++ = row + (flip ? w - 1 - x : x);
    }
  }
  return padded.reshape({b, c, padded.size(2) * padded_w})
      .gather(2, source.expand({b, c, h * w}))
      .view({b, c, h, w});
}

at::Tensor augment_images(const at::Tensor& images, const AugmentOptions& options, double fill,
                          uint64_t seed) {
  if (!augment_enabled(options)) return images;
  check(images.dim() == 4, "augmentation: images must be [B,C,H,W], got shape ", images.sizes());
  return apply_augment(images, draw_augment(images.size(0), options, seed), options.pad, fill);
}

}  // namespace vitc
