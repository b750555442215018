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

// A 1 KB JPEG can describe a 123-megapixel image that decodes (garbage pixels, no error) in about
// 2 s and 1 GB here: the default limit (kDefaultMaxImagePixels) bounds that cost, and its
// enforcement is unit-tested (tests/io/hostile_files_test.cpp). The fuzzer explores the decoders'
// logic, so it runs with a 4-megapixel limit, as image libraries' own fuzz targets cap sizes;
// otherwise images near the default limit take over 10 s under ASan and read as hangs.
constexpr uint64_t kFuzzMaxImagePixels = 1u << 22;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool limited = (vitc::set_max_image_pixels(kFuzzMaxImagePixels), true);
  (void)limited;
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
