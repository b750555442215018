// Decodes JPEG (libjpeg-turbo) and PNG (libpng) files into 8-bit RGB or grayscale pixels.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vitc {

// Interleaved 8-bit pixels, row after row: pixels[(y * width + x) * channels + c].
struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;  // 3 (RGB) or 1 (gray)
  std::vector<uint8_t> pixels;
};

enum class ImageFormat { kUnknown, kJpeg, kPng };

// The format named by the file's first bytes (not by its extension).
ImageFormat sniff_image_format(const std::string& bytes);

// Decodes a JPEG or PNG held in memory into `channels` (3 = RGB, 1 = gray) 8-bit channels:
//   JPEG: grayscale, YCbCr, RGB, CMYK and YCCK (Adobe inverted CMYK too) are converted;
//   PNG:  gray, gray+alpha, palette, RGB, RGBA at 1-16 bits; 16-bit samples are reduced to 8,
//         alpha is dropped (composited on nothing, as PIL's convert("RGB")).
// RGB -> gray uses PIL's "L" weights (299, 587, 114)/1000; gray -> RGB repeats the channel.
// A corrupt, truncated or unsupported file, or one over max_image_pixels(), throws vitc::Error
// naming `path` and the decoder's message.
Image decode_image(const std::string& bytes, const std::string& path, int channels = 3);

// Images whose header claims more pixels than this are refused before any pixel is decoded
// (decompression bombs: a 100-byte PNG can claim 30000 x 30000). The default is PIL's: it refuses
// images above twice its 89,478,485-pixel warning limit. Process-wide; --max-image-pixels sets it.
inline constexpr uint64_t kDefaultMaxImagePixels = 178'956'970;
void set_max_image_pixels(uint64_t pixels);
uint64_t max_image_pixels();

// Reads and decodes the file at `path`.
Image read_image(const std::string& path, int channels = 3);

}  // namespace vitc
