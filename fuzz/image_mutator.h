// Structure-aware help for the image harness's mutations: PNG chunk CRCs recomputed (else libpng
// rejects nearly every mutated header) and image sizes in PNG IHDR or JPEG SOF set to odd values.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace vitc::fuzz {

inline uint32_t read_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

inline void write_be32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}

inline bool is_png(const uint8_t* data, size_t size) {
  return size >= 8 && std::memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0;
}

// Rewrites the CRC of every complete chunk of a PNG.
inline void fix_png_crcs(uint8_t* data, size_t size) {
  if (!is_png(data, size)) return;
  for (size_t at = 8; at + 12 <= size;) {
    const uint32_t length = read_be32(data + at);
    if (length > size - at - 12) return;
    const uLong crc = crc32(0L, data + at + 4, static_cast<uInt>(length + 4));
    write_be32(data + at + 8 + length, static_cast<uint32_t>(crc));
    at += 12 + length;
  }
}

// Sets the width or height of a PNG (IHDR) or a JPEG (first SOFn marker) to a value picked by
// `seed`: zero, one, large, or the largest the field holds. Decoders must check them before
// they allocate.
inline void set_odd_image_size(uint8_t* data, size_t size, unsigned seed) {
  static const uint32_t values[] = {0, 1, 3, 255, 4096, 30000, 65500, 65535, 1u << 20,
                                    0x7fffffff, 0x80000000, 0xffffffff};
  const uint32_t value = values[(seed / 2) % (sizeof(values) / sizeof(values[0]))];
  const bool width = seed % 2 == 0;
  if (is_png(data, size) && size >= 24 && std::memcmp(data + 12, "IHDR", 4) == 0) {
    write_be32(data + (width ? 16 : 20), value);
    return;
  }
  for (size_t at = 2; at + 9 <= size; ++at) {  // JPEG: FF Cn, n in 0..15 except C4, C8, CC
    const uint8_t m = data[at + 1];
    if (data[at] == 0xff && m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
      const uint16_t v = static_cast<uint16_t>(value > 0xffff ? 0xffff : value);
      uint8_t* field = data + at + (width ? 7 : 5);  // FF Cn, length(2), precision, height, width
      field[0] = static_cast<uint8_t>(v >> 8);
      field[1] = static_cast<uint8_t>(v);
      return;
    }
  }
}

}  // namespace vitc::fuzz
