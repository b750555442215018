// DeiT's image transforms on decoded images: evaluation (bicubic resize of the short side to
// size / crop_pct, center crop) and training (random resized crop, horizontal flip), then
// normalisation. Geometry follows torchvision's Resize / CenterCrop / RandomResizedCrop.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include <ATen/ATen.h>

#include "io/image_decode.h"

namespace vitc {

// A crop of an image, in pixels of that image.
struct CropBox {
  int64_t top = 0, left = 0, height = 0, width = 0;
};

// torchvision's Resize(int): the short side becomes `short_side`, the long side
// int(short_side * long / short). Returns {height, width}.
std::pair<int64_t, int64_t> resize_short_side_shape(int64_t height, int64_t width,
                                                    int64_t short_side);

// torchvision's CenterCrop: top = round((height - crop) / 2) (half to even, as Python), same
// for left. Requires crop <= height and crop <= width.
CropBox center_crop_box(int64_t height, int64_t width, int64_t crop);

struct RandomResizedCropOptions {
  double scale_min = 0.08, scale_max = 1.0;    // fraction of the image area
  double ratio_min = 3.0 / 4, ratio_max = 4.0 / 3;  // width / height, sampled log-uniformly
  bool hflip = true;                           // flip with probability 1/2 after cropping
};

// torchvision's RandomResizedCrop.get_params: ten tries of a random area and aspect ratio, then
// the central crop with the ratio clamped. Draws come from `rng` with platform-independent
// arithmetic (no std distributions), so a seed gives the same crops everywhere.
CropBox random_resized_crop_box(int64_t height, int64_t width,
                                const RandomResizedCropOptions& options, std::mt19937_64& rng);

// A decoded image as a uint8 tensor [C, H, W] (a copy).
at::Tensor image_to_tensor(const Image& image);

// Bicubic resize of uint8 [C, H, W] to [C, out_h, out_w] with antialiasing when shrinking
// (PyTorch's antialiased bicubic, a = -0.5: the PIL algorithm torchvision uses), rounded and
// clamped back to uint8 as PIL's output is.
at::Tensor resize_bicubic(const at::Tensor& image, int64_t out_h, int64_t out_w);

// DeiT/timm evaluation transform: resize the short side to floor(size / crop_pct), then center
// crop size x size. uint8 [C, H, W] in and out.
at::Tensor eval_transform(const at::Tensor& image, int64_t size, double crop_pct);

// DeiT training transform: random resized crop to size x size, then a random horizontal flip.
at::Tensor train_transform(const at::Tensor& image, int64_t size,
                           const RandomResizedCropOptions& options, std::mt19937_64& rng);

// uint8 pixels [..., C, H, W] -> float32 (x / 255 - mean[c]) / std[c].
at::Tensor normalize_pixels(const at::Tensor& pixels, const std::vector<double>& mean,
                            const std::vector<double>& std);

}  // namespace vitc
