// IDX parsing over zlib's gzread; each corrupt case gets its own message naming the file.
#include "data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

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

// deflate cannot compress better than 1032:1, so a gzip file of n bytes never inflates to more
// than this: a header promising more is corrupt or a decompression bomb, refused before reading.
constexpr uint64_t kMaxDeflateRatio = 1032;
// The largest IDX payload vitc reads (Fashion-MNIST's training images are 47 MB).
constexpr uint64_t kMaxIdxBytes = 4ULL << 30;

// Checks the 4-byte magic (`have` bytes of it are there) and returns the number of dimensions.
int check_magic(const unsigned char* b, size_t have, const std::string& path, int expected_ndims) {
  check(have >= 4, "'", path, "' is not an IDX file: it has only ", have,
        " bytes, expected at least a 4-byte header");
  check(b[0] == 0 && b[1] == 0, "'", path, "' is not an IDX file: bad magic number 0x", std::hex,
        (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3],
        ", expected 0x0000080", expected_ndims);
  check(b[2] == 0x08, "'", path, "': IDX element type 0x", std::hex, int{b[2]},
        " is not supported, expected 0x08 (unsigned byte)");
  const int ndims = b[3];
  check(ndims == expected_ndims, "'", path, "' has ", ndims, " dimensions, expected ",
        expected_ndims);
  return ndims;
}

// The dimensions stored after the magic, and their product in bytes; a product above `limit`
// (which also catches 64-bit overflow) names the file as truncated or corrupt.
std::vector<int64_t> read_dims(const std::string& sizes, const std::string& path, uint64_t limit,
                               const std::string& limit_reason, uint64_t& count) {
  std::vector<int64_t> dims;
  count = 1;
  bool too_big = false;
  for (size_t d = 0; d * 4 < sizes.size(); ++d) {
    const uint32_t size = read_be32(sizes, 4 * d);
    dims.push_back(size);
    if (size != 0 && count > limit / size) too_big = true;
    count *= size;
  }
  check(!too_big && count <= limit, "'", path, "' is truncated or corrupt: its header promises ",
        join(dims, " x "), " bytes of data, ", limit_reason);
  return dims;
}

// A file read through zlib (gzip, or plain bytes as they are), in exact amounts.
class GzipStream {
 public:
  explicit GzipStream(const std::string& path) : path_(path), file_(nullptr, gzclose_r) {
    errno = 0;
    gzFile file = gzopen(path.c_str(), "rb");
    check(file != nullptr, "cannot open '", path, "': ",
          errno != 0 ? std::strerror(errno) : "zlib could not allocate its state");
    file_.reset(file);
    gzbuffer(file, 1u << 17);  // a bigger input buffer: fewer read() calls on the 26 MB file
  }
  bool compressed() { return gzdirect(file_.get()) == 0; }

  // Reads up to `count` bytes; fewer only at the end of the data.
  uint64_t read(void* destination, uint64_t count) {
    auto* out = static_cast<char*>(destination);
    uint64_t total = 0;
    while (total < count) {
      const unsigned want = static_cast<unsigned>(std::min<uint64_t>(count - total, kChunk));
      const int n = gzread(file_.get(), out + total, want);
      if (n < 0)
        fail("cannot read '", path_, "': ", zlib_message(file_.get(), path_),
             " (the file is damaged; download or reinstall it)");
      if (n == 0) break;
      total += static_cast<uint64_t>(n);
    }
    return total;
  }

  std::string read_string(size_t count) {
    std::string out(count, '\0');
    out.resize(read(out.data(), count));
    return out;
  }

  // Bytes left after the expected data, counted up to `cap`.
  uint64_t count_rest(uint64_t cap) {
    std::string buffer(kChunk, '\0');
    uint64_t total = 0;
    while (total < cap) {
      const uint64_t got = read(buffer.data(), buffer.size());
      if (got == 0) break;
      total += got;
    }
    return total;
  }

  // A gzip stream cut short reads as a clean EOF on some zlib versions; gzerror still knows.
  void check_complete() {
    int code = 0;
    gzerror(file_.get(), &code);
    check(code == Z_OK, "cannot read '", path_, "': ", zlib_message(file_.get(), path_),
          " (the file is truncated or damaged; download or reinstall it)");
  }

 private:
  std::string path_;
  std::unique_ptr<gzFile_s, int (*)(gzFile)> file_;
};

constexpr uint64_t kTrailingCountCap = 1ULL << 20;

std::string trailing_message(const std::string& path, uint64_t extra, const std::vector<int64_t>& dims) {
  return str_cat("'", path, "' has ", extra, extra >= kTrailingCountCap ? " or more" : "",
                 " unexpected bytes after the ", join(dims, " x "), " data");
}

}  // namespace

IdxArray parse_idx(const std::string& bytes, const std::string& path, int expected_ndims) {
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  const int ndims = check_magic(b, bytes.size(), path, expected_ndims);
  const size_t header = 4 + 4 * static_cast<size_t>(ndims);
  check(bytes.size() >= header, "'", path, "' is truncated: the header needs ", header,
        " bytes, the file has ", bytes.size());
  const size_t available = bytes.size() - header;
  uint64_t count = 0;
  IdxArray array;
  array.dims = read_dims(bytes.substr(4, header - 4), path, available,
                         str_cat("only ", available, " follow"), count);
  check(count == available, trailing_message(path, available - count, array.dims));
  array.data = at::empty(array.dims, at::kByte);
  if (count > 0) std::memcpy(array.data.data_ptr<uint8_t>(), b + header, count);
  return array;
}

IdxArray read_idx(const std::string& path, int expected_ndims) {
  GzipStream in(path);
  const std::string magic = in.read_string(4);
  const int ndims =
      check_magic(reinterpret_cast<const unsigned char*>(magic.data()), magic.size(), path,
                  expected_ndims);
  const size_t header = 4 + 4 * static_cast<size_t>(ndims);
  const std::string sizes = in.read_string(header - 4);
  check(sizes.size() == header - 4, "'", path, "' is truncated: the header needs ", header,
        " bytes, the file has ", 4 + sizes.size());

  // Bounded before anything is allocated: by what the file can hold, and by kMaxIdxBytes.
  std::error_code ec;
  const uint64_t file_size = std::filesystem::file_size(path, ec);
  check(!ec, "cannot stat '", path, "': ", ec.message());
  const bool compressed = in.compressed();
  const uint64_t can_hold = compressed ? kMaxDeflateRatio * file_size
                                       : (file_size >= header ? file_size - header : 0);
  const uint64_t limit = std::min(can_hold, kMaxIdxBytes);
  const std::string reason =
      can_hold > kMaxIdxBytes
          ? str_cat("more than the ", kMaxIdxBytes, " bytes vitc reads from one IDX file")
          : compressed ? str_cat("more than this ", file_size, "-byte gzip file can inflate to")
                       : str_cat("only ", can_hold, " follow");
  uint64_t count = 0;
  IdxArray array;
  array.dims = read_dims(sizes, path, limit, reason, count);

  // Pages of the tensor are only touched as data arrives, so a short stream costs what it holds.
  array.data = at::empty(array.dims, at::kByte);
  const uint64_t got = count > 0 ? in.read(array.data.data_ptr<uint8_t>(), count) : 0;
  in.check_complete();
  check(got == count, "'", path, "' is truncated: its header promises ", join(array.dims, " x "),
        " bytes of data, only ", got, " follow");
  const uint64_t extra = in.count_rest(kTrailingCountCap);
  in.check_complete();
  check(extra == 0, trailing_message(path, extra, array.dims));
  return array;
}

}  // namespace vitc
