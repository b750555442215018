// Fuzz harness: decode_image (JPEG/PNG in memory) to RGB and to gray; only vitc::Error may come
// out. Its mutator keeps PNG CRCs valid so that mutations reach the decoder.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_util.h"
#include "image_mutator.h"
#include "io/image_decode.h"
#include "util/error.h"

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

// libFuzzer's (or the corpus runner's) mutation, then 7 times in 8 the PNG chunk CRCs made right
// again (the 8th tests libpng's CRC errors), and 1 time in 8 an odd width or height.
extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  size = LLVMFuzzerMutate(data, size, max_size);
  if (seed % 8 == 0) vitc::fuzz::set_odd_image_size(data, size, seed / 8);
  if (seed % 8 != 1) vitc::fuzz::fix_png_crcs(data, size);
  return size;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  // Any other exception escapes and terminates: that is a bug in the decoder.
  for (const int channels : {3, 1}) {
    try {
      const vitc::Image image = vitc::decode_image(bytes, "fuzz_input", channels);
      // The promised shape must match the pixels.
      if (image.pixels.size() != static_cast<size_t>(image.width) * image.height * channels ||
          image.channels != channels) {
        __builtin_trap();
      }
      vitc::fuzz::loaded(channels == 3 ? "decoded to RGB" : "decoded to gray");
    } catch (const vitc::Error& e) {
      vitc::fuzz::expected_error(e);
    }
  }
  return 0;
}
