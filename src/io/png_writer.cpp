// PNG encoding through libpng's simplified API (no setjmp/longjmp crossing C++ frames).
#include "io/png_writer.h"

#include <cstring>

#include <png.h>

#include "util/error.h"
#include "util/files.h"

namespace vitc {

std::string encode_png(const Image8& image, const std::string& what) {
  check(image.width > 0 && image.height > 0, what, ": PNG size must be positive, got ",
        image.width, "x", image.height);
  check(image.channels == 1 || image.channels == 3, what,
        ": PNG channels must be 1 (grayscale) or 3 (RGB), got ", image.channels);
  const size_t expected = static_cast<size_t>(image.width) * image.height * image.channels;
  check(image.pixels.size() == expected, what, ": ", image.width, "x", image.height, "x",
        image.channels, " image needs ", expected, " bytes, got ", image.pixels.size());

  png_image png;
  std::memset(&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(image.width);
  png.height = static_cast<png_uint_32>(image.height);
  png.format = image.channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  const png_int_32 stride = image.width * image.channels;
  png_alloc_size_t size = 0;
  // First call: the encoded size only.
  check(png_image_write_to_memory(&png, nullptr, &size, 0, image.pixels.data(), stride, nullptr) &&
            size > 0,
        what, ": libpng cannot encode the image: ", png.message);
  std::string bytes(size, '\0');
  const int ok = png_image_write_to_memory(&png, bytes.data(), &size, 0, image.pixels.data(),
                                           stride, nullptr);
  const std::string message = png.message;
  png_image_free(&png);
  check(ok != 0, what, ": libpng cannot encode the image: ", message);
  bytes.resize(size);
  return bytes;
}

void write_png(const std::string& path, const Image8& image) {
  atomic_write_string(path, encode_png(image, str_cat("'", path, "'")));
}

}  // namespace vitc
