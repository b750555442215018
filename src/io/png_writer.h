// 8-bit PNG files (grayscale or RGB) for images a person looks at (e.g. DC-ViT's synthetic set),
// encoded with libpng and written atomically.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vitc {

// Row-major pixels, `channels` interleaved bytes per pixel: 1 = grayscale, 3 = RGB.
struct Image8 {
  int width = 0;
  int height = 0;
  int channels = 1;
  std::vector<uint8_t> pixels;  // height * width * channels bytes
};

// The PNG file bytes of `image`. Throws vitc::Error for a bad shape (non-positive size, channels
// other than 1 or 3, a pixel buffer of the wrong length) or if libpng fails; `what` names the
// image in the message.
std::string encode_png(const Image8& image, const std::string& what = "image");

// Encodes `image` and writes it to `path` atomically (temporary file, then rename).
void write_png(const std::string& path, const Image8& image);

}  // namespace vitc
