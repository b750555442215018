// PNG writing: grayscale and RGB images decode back (libpng's reader) to the same bytes; bad
// shapes are errors naming the image; files are written whole.
#include <cstring>
#include <filesystem>

#include <gtest/gtest.h>
#include <png.h>
#include <unistd.h>

#include "io/png_writer.h"
#include "util/error.h"
#include "util/files.h"

namespace vitc {
namespace {

Image8 decode(const std::string& bytes, int channels) {
  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  EXPECT_NE(png_image_begin_read_from_memory(&png, bytes.data(), bytes.size()), 0) << png.message;
  png.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  Image8 img;
  img.width = static_cast<int>(png.width);
  img.height = static_cast<int>(png.height);
  img.channels = channels;
  img.pixels.resize(PNG_IMAGE_SIZE(png));
  EXPECT_NE(png_image_finish_read(&png, nullptr, img.pixels.data(), 0, nullptr), 0) << png.message;
  return img;
}

Image8 pattern(int w, int h, int c) {
  Image8 img{w, h, c, {}};
  for (int i = 0; i < w * h * c; ++i) img.pixels.push_back(static_cast<uint8_t>((i * 37) % 256));
  return img;
}

TEST(PngWriter, GrayAndRgbRoundTrip) {
  for (int c : {1, 3}) {
    const Image8 img = pattern(29, 17, c);
    const Image8 back = decode(encode_png(img), c);
    EXPECT_EQ(back.width, 29);
    EXPECT_EQ(back.height, 17);
    EXPECT_EQ(back.pixels, img.pixels);
  }
}

TEST(PngWriter, WritesAtomicallyAndRejectsBadImages) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("vitc_png_" + std::to_string(getpid()) + ".png")).string();
  write_png(path, pattern(5, 4, 1));
  EXPECT_EQ(decode(read_file(path), 1).pixels, pattern(5, 4, 1).pixels);
  std::filesystem::remove(path);
  EXPECT_THROW(encode_png(Image8{0, 4, 1, {}}), Error);
  EXPECT_THROW(encode_png(Image8{2, 2, 2, std::vector<uint8_t>(8)}), Error);
  try {
    encode_png(Image8{3, 3, 1, std::vector<uint8_t>(8)}, "grid");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("grid: 3x3x1 image needs 9 bytes, got 8"), std::string::npos);
  }
  EXPECT_THROW(write_png("/nonexistent-dir/x.png", pattern(2, 2, 1)), Error);
}

}  // namespace
}  // namespace vitc
