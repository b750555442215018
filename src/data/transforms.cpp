// Crop geometry, bicubic resizing and normalisation of decoded images.
#include "data/transforms.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace vitc {

namespace {

// Uniform double in [0, 1) from the top 53 bits of one draw (identical on every platform).
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

double uniform(std::mt19937_64& rng, double lo, double hi) { return lo + (hi - lo) * uniform01(rng); }

// Python's round(): half to even.
int64_t round_half_even(double x) { return static_cast<int64_t>(std::nearbyint(x)); }

}  // namespace

std::pair<int64_t, int64_t> resize_short_side_shape(int64_t height, int64_t width,
                                                    int64_t short_side) {
  check(height > 0 && width > 0 && short_side > 0, "resize: bad sizes (image ", height, "x",
        width, ", short side ", short_side, ")");
  if (width <= height) {
    return {static_cast<int64_t>(static_cast<double>(short_side) * height / width), short_side};
  }
  return {short_side, static_cast<int64_t>(static_cast<double>(short_side) * width / height)};
}

CropBox center_crop_box(int64_t height, int64_t width, int64_t crop) {
  check(crop > 0 && crop <= height && crop <= width, "center crop of ", crop, " pixels from a ",
        height, "x", width, " image");
  return {round_half_even((height - crop) / 2.0), round_half_even((width - crop) / 2.0), crop, crop};
}

CropBox random_resized_crop_box(int64_t height, int64_t width,
                                const RandomResizedCropOptions& o, std::mt19937_64& rng) {
  check(o.scale_min > 0 && o.scale_min <= o.scale_max && o.ratio_min > 0 &&
            o.ratio_min <= o.ratio_max,
        "random resized crop: need 0 < scale_min <= scale_max and 0 < ratio_min <= ratio_max, got "
        "scale ", o.scale_min, "..", o.scale_max, " ratio ", o.ratio_min, "..", o.ratio_max);
  const double area = static_cast<double>(height) * static_cast<double>(width);
  const double log_lo = std::log(o.ratio_min), log_hi = std::log(o.ratio_max);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target_area = area * uniform(rng, o.scale_min, o.scale_max);
    const double aspect = std::exp(uniform(rng, log_lo, log_hi));
    const int64_t w = round_half_even(std::sqrt(target_area * aspect));
    const int64_t h = round_half_even(std::sqrt(target_area / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const int64_t top = static_cast<int64_t>(uniform01(rng) * static_cast<double>(height - h + 1));
      const int64_t left = static_cast<int64_t>(uniform01(rng) * static_cast<double>(width - w + 1));
      return {top, left, h, w};
    }
  }
  const double in_ratio = static_cast<double>(width) / static_cast<double>(height);
  int64_t w = width, h = height;
  if (in_ratio < o.ratio_min) {
    h = round_half_even(static_cast<double>(w) / o.ratio_min);
  } else if (in_ratio > o.ratio_max) {
    w = round_half_even(static_cast<double>(h) * o.ratio_max);
  }
  h = std::clamp<int64_t>(h, 1, height);
  w = std::clamp<int64_t>(w, 1, width);
  return {(height - h) / 2, (width - w) / 2, h, w};
}

at::Tensor image_to_tensor(const Image& image) {
  check(image.width > 0 && image.height > 0 && image.channels > 0 &&
            image.pixels.size() == static_cast<size_t>(image.width) * image.height * image.channels,
        "image_to_tensor: inconsistent image (", image.width, "x", image.height, "x",
        image.channels, ", ", image.pixels.size(), " bytes)");
  const at::Tensor hwc = at::from_blob(const_cast<uint8_t*>(image.pixels.data()),
                                       {image.height, image.width, image.channels}, at::kByte);
  // clone, not contiguous(): with one channel the permuted view already counts as contiguous,
  // and contiguous() would return it still pointing into `image`'s buffer.
  return hwc.permute({2, 0, 1}).clone(at::MemoryFormat::Contiguous);
}

at::Tensor resize_bicubic(const at::Tensor& image, int64_t out_h, int64_t out_w) {
  check(image.dim() == 3 && image.scalar_type() == at::kByte, "resize: expected uint8 [C,H,W], got ",
        image.scalar_type(), " ", image.sizes());
  check(out_h > 0 && out_w > 0, "resize: output size must be positive, got ", out_h, "x", out_w);
  if (image.size(1) == out_h && image.size(2) == out_w) return image;
  const std::vector<int64_t> size = {out_h, out_w};
  const at::Tensor resized = at::_upsample_bicubic2d_aa(image.unsqueeze(0).to(at::kFloat),
                                                       at::IntArrayRef(size), /*align_corners=*/false);
  return resized.squeeze(0).round().clamp(0, 255).to(at::kByte);
}

at::Tensor eval_transform(const at::Tensor& image, int64_t size, double crop_pct) {
  check(crop_pct > 0 && crop_pct <= 1, "crop_pct must be in (0, 1], got ", crop_pct);
  const int64_t short_side = static_cast<int64_t>(std::floor(static_cast<double>(size) / crop_pct));
  const auto [h, w] = resize_short_side_shape(image.size(1), image.size(2), short_side);
  const at::Tensor resized = resize_bicubic(image, h, w);
  const CropBox box = center_crop_box(h, w, size);
  return resized.narrow(1, box.top, box.height).narrow(2, box.left, box.width).contiguous();
}

at::Tensor train_transform(const at::Tensor& image, int64_t size,
                           const RandomResizedCropOptions& options, std::mt19937_64& rng) {
  const CropBox box = random_resized_crop_box(image.size(1), image.size(2), options, rng);
  at::Tensor out = resize_bicubic(
      image.narrow(1, box.top, box.height).narrow(2, box.left, box.width).contiguous(), size, size);
  if (options.hflip && uniform01(rng) < 0.5) out = out.flip({2});
  return out.contiguous();
}

at::Tensor normalize_pixels(const at::Tensor& pixels, const std::vector<double>& mean,
                            const std::vector<double>& std) {
  check(pixels.dim() >= 3, "normalize: expected [..., C, H, W], got ", pixels.sizes());
  const int64_t c = pixels.size(-3);
  check(static_cast<int64_t>(mean.size()) == c && static_cast<int64_t>(std.size()) == c,
        "normalize: the images have ", c, " channels but mean/std have ", mean.size(), "/",
        std.size(), " values");
  std::vector<float> m(mean.begin(), mean.end()), s(std.begin(), std.end());
  for (float v : s) check(v > 0, "normalize: std values must be positive");
  const at::Tensor mt = at::tensor(m).view({c, 1, 1});
  const at::Tensor st = at::tensor(s).view({c, 1, 1});
  return (pixels.to(at::kFloat) / 255.0f - mt) / st;
}

}  // namespace vitc
