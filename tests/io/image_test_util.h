// Test helpers: JPEG (incl. CMYK) and PNG (gray, RGB, RGBA, palette, 16-bit) encoders over
// libjpeg and libpng, to make small image files whose pixels are known.
#pragma once

#include <cstdio>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <jpeglib.h>
#include <png.h>

#include <gtest/gtest.h>

#include "test_support.h"

namespace vitc::testing {

// Pixels of a w x h image with `channels` channels: a smooth gradient (seed <= 4), so JPEG keeps
// it close.
inline std::vector<uint8_t> gradient(int w, int h, int channels, int seed = 0) {
  std::vector<uint8_t> p(static_cast<size_t>(w) * h * channels);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      for (int c = 0; c < channels; ++c) {
        p[(static_cast<size_t>(y) * w + x) * channels + c] = static_cast<uint8_t>(
            seed * 5 + x * 120 / std::max(1, w - 1) * (c + 1) / channels +
            y * 60 / std::max(1, h - 1) + c * 20);  // at most 235: no wrap, no sharp edge
      }
    }
  }
  return p;
}

// JPEG with `channels` 1 (gray), 3 (RGB) or 4 (CMYK, written as given with libjpeg's Adobe
// marker, i.e. the bytes are what an Adobe file stores: inverted inks).
inline void write_jpeg(const std::string& path, int w, int h, int channels,
                       const std::vector<uint8_t>& pixels, int quality = 95) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr jerr;
  cinfo.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = static_cast<JDIMENSION>(w);
  cinfo.image_height = static_cast<JDIMENSION>(h);
  cinfo.input_components = channels;
  cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : channels == 3 ? JCS_RGB : JCS_CMYK;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(pixels.data()) +
                   static_cast<size_t>(cinfo.next_scanline) * w * channels;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(buffer),
                                              static_cast<std::streamsize>(size));
  std::free(buffer);
  jpeg_destroy_compress(&cinfo);
}

// PNG of color type `color_type` (PNG_COLOR_TYPE_GRAY, _RGB, _RGB_ALPHA, _PALETTE) and bit depth
// 8 or 16; `pixels` holds the samples row by row (16-bit samples big-endian, as PNG stores them;
// palette images hold indices into `palette`, RGB triplets).
inline void write_png(const std::string& path, int w, int h, int color_type, int bit_depth,
                      const std::vector<uint8_t>& pixels,
                      const std::vector<uint8_t>& palette = {}) {
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  png_init_io(png, f);
  png_set_IHDR(png, info, static_cast<png_uint_32>(w), static_cast<png_uint_32>(h), bit_depth,
               color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  std::vector<png_color> colors;
  for (size_t i = 0; i + 2 < palette.size(); i += 3) {
    colors.push_back(png_color{palette[i], palette[i + 1], palette[i + 2]});
  }
  if (color_type == PNG_COLOR_TYPE_PALETTE) {
    png_set_PLTE(png, info, colors.data(), static_cast<int>(colors.size()));
  }
  png_write_info(png, info);
  const size_t row_bytes = pixels.size() / static_cast<size_t>(h);
  for (int y = 0; y < h; ++y) {
    png_write_row(png, const_cast<uint8_t*>(pixels.data()) + y * row_bytes);
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  std::fclose(f);
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

using test_support::fresh_dir;  // tests/test_support.h

}  // namespace vitc::testing
