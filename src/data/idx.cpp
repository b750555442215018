// IDX parsing over zlib's gzread; each corrupt case gets its own message naming the file.
#include "data/idx.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "util/error.h"

namespace vitc {
namespace {

constexpr unsigned kChunk = 1u << 20;

// gzerror's text starts with "<path>: "; our messages name the path already.
std::string zlib_message(gzFile file, const std::string& path) {
  int code = 0;
  std::string message = gzerror(file, &code);
  if (code == Z_ERRNO) return std::strerror(errno);
  const std::string prefix = path + ": ";
  if (message.compare(0, prefix.size(), prefix) == 0) message.erase(0, prefix.size());
  return message;
}

uint32_t read_be32(const std::string& bytes, size_t offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + offset);
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

}  // namespace

std::string read_gzip_file(const std::string& path) {
  errno = 0;
  gzFile file = gzopen(path.c_str(), "rb");
  check(file != nullptr, "cannot open '", path, "': ",
        errno != 0 ? std::strerror(errno) : "zlib could not allocate its state");
  std::unique_ptr<gzFile_s, int (*)(gzFile)> closer(file, gzclose_r);
  gzbuffer(file, 1u << 17);  // a bigger input buffer: fewer read() calls on the 26 MB file

  std::string out;
  for (;;) {
    const size_t old_size = out.size();
    out.resize(old_size + kChunk);
    const int n = gzread(file, &out[old_size], kChunk);
    if (n < 0) {
      fail("cannot read '", path, "': ", zlib_message(file, path),
           " (the file is damaged; download or reinstall it)");
    }
    out.resize(old_size + static_cast<size_t>(n));
    if (n == 0) break;
  }
  // A gzip stream cut short reads as a clean EOF on some zlib versions; gzerror still knows.
  int code = 0;
  gzerror(file, &code);
  check(code == Z_OK, "cannot read '", path, "': ", zlib_message(file, path),
        " (the file is truncated or damaged; download or reinstall it)");
  return out;
}

IdxArray parse_idx(const std::string& bytes, const std::string& path, int expected_ndims) {
  check(bytes.size() >= 4, "'", path, "' is not an IDX file: it has only ", bytes.size(),
        " bytes, expected at least a 4-byte header");
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  check(b[0] == 0 && b[1] == 0, "'", path,
        "' is not an IDX file: bad magic number 0x", std::hex, read_be32(bytes, 0),
        ", expected 0x0000080", expected_ndims);
  check(b[2] == 0x08, "'", path, "': IDX element type 0x", std::hex, int{b[2]},
        " is not supported, expected 0x08 (unsigned byte)");
  const int ndims = b[3];
  check(ndims == expected_ndims, "'", path, "' has ", ndims,
        " dimensions, expected ", expected_ndims);

  const size_t header = 4 + 4 * static_cast<size_t>(ndims);
  check(bytes.size() >= header, "'", path, "' is truncated: the header needs ", header,
        " bytes, the file has ", bytes.size());
  IdxArray array;
  // Multiply while comparing with the file size so that absurd sizes cannot overflow.
  size_t count = 1;
  bool too_big = false;
  for (int d = 0; d < ndims; ++d) {
    const uint32_t size = read_be32(bytes, 4 + 4 * static_cast<size_t>(d));
    array.dims.push_back(size);
    if (size != 0 && count > (bytes.size() - header) / size) too_big = true;
    count *= size;
  }
  const size_t available = bytes.size() - header;
  check(!too_big && count <= available, "'", path, "' is truncated: its header promises ",
        join(array.dims, " x "), " bytes of data, only ", available, " follow");
  check(count == available, "'", path, "' has ", available - count,
        " unexpected bytes after the ", join(array.dims, " x "), " data");

  array.data = at::empty(array.dims, at::kByte);
  if (count > 0) std::memcpy(array.data.data_ptr<uint8_t>(), b + header, count);
  return array;
}

IdxArray read_idx(const std::string& path, int expected_ndims) {
  return parse_idx(read_gzip_file(path), path, expected_ndims);
}

}  // namespace vitc
