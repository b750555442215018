// Structure-aware help for the idx harness's mutations: a gzip input is decompressed, its
// contents mutated, and compressed again, so the IDX parser behind zlib sees varied inputs.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace vitc::fuzz {

inline bool is_gzip(const uint8_t* data, size_t size) {
  return size >= 3 && data[0] == 0x1f && data[1] == 0x8b && data[2] == 0x08;
}

// The decompressed contents of a whole gzip member, if it decompresses to at most `limit` bytes.
inline bool gunzip(const uint8_t* data, size_t size, size_t limit, std::string& out) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return false;
  z.next_in = const_cast<Bytef*>(data);
  z.avail_in = static_cast<uInt>(size);
  out.clear();
  int rc = Z_OK;
  char chunk[1 << 14];
  while (rc == Z_OK && out.size() <= limit) {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof(chunk);
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(chunk, sizeof(chunk) - z.avail_out);
  }
  inflateEnd(&z);
  return rc == Z_STREAM_END && out.size() <= limit;
}

// gzip with maximum compression.
inline std::string gzip(const uint8_t* data, size_t size) {
  z_stream z{};
  if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return {};
  }
  std::string out(deflateBound(&z, static_cast<uLong>(size)), '\0');
  z.next_in = const_cast<Bytef*>(data);
  z.avail_in = static_cast<uInt>(size);
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return rc == Z_STREAM_END ? out : std::string();
}

}  // namespace vitc::fuzz
