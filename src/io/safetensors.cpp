// .safetensors reader and writer: 8-byte little-endian header length, JSON header, raw tensor bytes.
#include "io/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <ostream>
#include <set>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/files.h"
#include "util/json_read.h"

// Tensor bytes are copied between the file and memory as they are, so the host must store numbers
// the way the format does.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors I/O assumes a little-endian host");

namespace vitc {
namespace {

using json = nlohmann::json;

// The reference implementation's limit: a bigger header is far more likely corruption than a model.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr const char* kMetadataKey = "__metadata__";
// No tensor vitc reads or writes has more dimensions; more is a corrupt or hostile header.
constexpr size_t kMaxRank = 8;

struct Dtype {
  const char* name;        // as spelled in the header
  const char* torch_name;  // as spelled in vitc's error messages about tensors
  at::ScalarType type;
  int64_t itemsize;
};

const Dtype kDtypes[] = {
    {"F32", "float32", at::kFloat, 4},     {"F16", "float16", at::kHalf, 2},
    {"BF16", "bfloat16", at::kBFloat16, 2}, {"F64", "float64", at::kDouble, 8},
    {"I64", "int64", at::kLong, 8},        {"I32", "int32", at::kInt, 4},
    {"I16", "int16", at::kShort, 2},       {"I8", "int8", at::kChar, 1},
    {"U8", "uint8", at::kByte, 1},         {"BOOL", "bool", at::kBool, 1},
};

const Dtype* dtype_by_name(const std::string& name) {
  for (const Dtype& d : kDtypes)
    if (name == d.name) return &d;
  return nullptr;
}

const Dtype* dtype_by_type(at::ScalarType type) {
  for (const Dtype& d : kDtypes)
    if (type == d.type) return &d;
  return nullptr;
}

std::string supported_names(bool torch_names) {
  std::vector<std::string> names;
  for (const Dtype& d : kDtypes) names.push_back(torch_names ? d.torch_name : d.name);
  return join(names);
}

std::string shape_string(const std::vector<int64_t>& shape) { return "[" + join(shape) + "]"; }

// One tensor's header entry, validated against the file.
struct Entry {
  std::string name;
  const Dtype* dtype = nullptr;
  std::vector<int64_t> shape;
  uint64_t begin = 0;
  uint64_t end = 0;
};

// A read-only file descriptor that reads exact byte ranges and says which file failed.
class InputFile {
 public:
  explicit InputFile(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    check(fd_ >= 0, "cannot open '", path, "': ", std::strerror(errno));
    struct stat info;
    if (::fstat(fd_, &info) != 0) {
      const std::string reason = std::strerror(errno);
      ::close(fd_);
      fail("cannot stat '", path, "': ", reason);
    }
    if (!S_ISREG(info.st_mode)) {
      ::close(fd_);
      fail("'", path, "' is not a regular file (expected a .safetensors file)");
    }
    size_ = static_cast<uint64_t>(info.st_size);
  }
  ~InputFile() { ::close(fd_); }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  uint64_t size() const { return size_; }

  // Reads exactly `count` bytes at `offset`; a short read means the file shrank after fstat.
  void read_at(uint64_t offset, void* destination, uint64_t count) const {
    char* out = static_cast<char*>(destination);
    while (count > 0) {
      // Linux transfers at most ~2 GiB per call; larger tensors take several.
      const size_t chunk = static_cast<size_t>(std::min<uint64_t>(count, 1ULL << 30));
      const ssize_t got = ::pread(fd_, out, chunk, static_cast<off_t>(offset));
      if (got < 0 && errno == EINTR) continue;
      check(got >= 0, "error while reading '", path_, "' at byte ", offset, ": ", std::strerror(errno));
      check(got > 0, "'", path_, "' ended at byte ", offset, " while reading it (expected ", size_,
            " bytes; did the file change while it was being read?)");
      out += got;
      offset += static_cast<uint64_t>(got);
      count -= static_cast<uint64_t>(got);
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

// Parses the header, rejecting duplicate top-level keys (the JSON library would keep only the last,
// silently dropping a tensor).
json parse_header(const std::string& path, const std::string& text) {
  std::set<std::string> seen;
  std::string duplicate;
  const json::parser_callback_t note_keys = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth == 1 && event == json::parse_event_t::key && parsed.is_string()) {
      const std::string& key = parsed.get_ref<const std::string&>();
      if (!seen.insert(key).second && duplicate.empty()) duplicate = key;
    }
    return true;
  };
  const json header = parse_json_text(text, path, "the safetensors header", note_keys);
  check(header.is_object(), "'", path, "': the safetensors header must be a JSON object, got ",
        header.type_name());
  check(duplicate.empty(), "'", path, "': the safetensors header lists '", duplicate, "' twice");
  return header;
}

// A JSON non-negative integer as uint64, or an error naming `what`.
uint64_t non_negative(const std::string& path, const std::string& what, const json& value) {
  if (value.is_number_unsigned()) return value.get<uint64_t>();
  if (value.is_number_integer()) {
    const int64_t v = value.get<int64_t>();
    check(v >= 0, "'", path, "': ", what, " is ", v, ", expected a non-negative integer");
    return static_cast<uint64_t>(v);
  }
  fail("'", path, "': ", what, " is ", json_brief(value), ", expected a non-negative integer");
}

Entry parse_entry(const std::string& path, const std::string& name, const json& value,
                  uint64_t data_size) {
  const std::string where = str_cat("tensor '", name, "'");
  check(value.is_object(), "'", path, "': ", where, ": header entry must be an object, got ",
        value.type_name());
  for (const char* field : {"dtype", "shape", "data_offsets"})
    check(value.contains(field), "'", path, "': ", where, ": header entry has no \"", field, "\"");

  Entry entry;
  entry.name = name;
  const json& dtype = value["dtype"];
  if (!dtype.is_string())
    fail("'", path, "': ", where, ": \"dtype\" must be a string, got ", json_brief(dtype));
  entry.dtype = dtype_by_name(dtype.get<std::string>());
  if (entry.dtype == nullptr)
    fail("'", path, "': ", where, ": unknown dtype ", json_brief(dtype), " (supported: ",
         supported_names(false), ")");

  const json& shape = value["shape"];
  // Messages are built only on failure: a shape is untrusted and may be huge.
  if (!shape.is_array())
    fail("'", path, "': ", where, ": \"shape\" must be an array of integers, got ", json_brief(shape));
  if (shape.size() > kMaxRank)
    fail("'", path, "': ", where, ": \"shape\" has ", shape.size(), " dimensions, at most ", kMaxRank,
         " are supported (", json_brief(shape), ")");
  // Product of the dims with zeros counted as one: torch computes strides this way, so it must fit
  // in int64 even for an empty tensor.
  int64_t stride_span = 1;
  int64_t numel = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    const uint64_t dim = non_negative(path, str_cat(where, ": shape[", i, "]"), shape[i]);
    if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      fail("'", path, "': ", where, ": shape[", i, "] = ", dim, " is too large");
    entry.shape.push_back(static_cast<int64_t>(dim));
    if (__builtin_mul_overflow(stride_span, std::max<int64_t>(dim, 1), &stride_span))
      fail("'", path, "': ", where, ": shape ", json_brief(shape), " has too many elements");
    numel *= static_cast<int64_t>(dim);  // cannot overflow: bounded by stride_span
  }
  int64_t nbytes = 0;
  if (__builtin_mul_overflow(numel, entry.dtype->itemsize, &nbytes))
    fail("'", path, "': ", where, ": shape ", json_brief(shape), " has too many bytes");

  const json& offsets = value["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2)
    fail("'", path, "': ", where, ": \"data_offsets\" must be [begin, end], got ", json_brief(offsets));
  entry.begin = non_negative(path, where + ": data_offsets[0]", offsets[0]);
  entry.end = non_negative(path, where + ": data_offsets[1]", offsets[1]);
  check(entry.begin <= entry.end, "'", path, "': ", where, ": data_offsets [", entry.begin, ", ",
        entry.end, "] has begin > end");
  check(entry.end <= data_size, "'", path, "': ", where, ": data_offsets [", entry.begin, ", ",
        entry.end, "] reach beyond the data buffer, which has ", data_size,
        " bytes (is the file truncated?)");
  check(entry.end - entry.begin == static_cast<uint64_t>(nbytes), "'", path, "': ", where,
        ": data_offsets [", entry.begin, ", ", entry.end, "] span ", entry.end - entry.begin,
        " bytes but dtype ", entry.dtype->name, " with shape ", shape_string(entry.shape), " needs ",
        nbytes);
  return entry;
}

std::map<std::string, std::string> parse_metadata(const std::string& path, const json& value) {
  check(value.is_object(), "'", path, "': \"", kMetadataKey, "\" must be an object of strings, got ",
        value.type_name());
  std::map<std::string, std::string> metadata;
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string())
      fail("'", path, "': \"", kMetadataKey, "\" value for key '", key, "' must be a string, got ",
           json_brief(item));
    metadata[key] = item.get<std::string>();
  }
  return metadata;
}

// Like the reference implementation, tensors must tile the data buffer exactly: no overlaps (two
// tensors sharing bytes), no holes and no trailing bytes (both usually mean a corrupt header).
void check_layout(const std::string& path, std::vector<Entry>& entries, uint64_t data_size) {
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  uint64_t covered = 0;
  const Entry* previous = nullptr;
  for (const Entry& e : entries) {
    check(e.begin >= covered, "'", path, "': tensor '", e.name, "' (bytes ", e.begin, "..", e.end,
          ") overlaps tensor '", previous ? previous->name : "", "' (bytes ",
          previous ? previous->begin : 0, "..", previous ? previous->end : 0, ")");
    check(e.begin == covered, "'", path, "': bytes ", covered, "..", e.begin,
          " of the data buffer belong to no tensor (a hole before tensor '", e.name, "')");
    covered = e.end;
    previous = &e;
  }
  check(covered == data_size, "'", path, "': the data buffer has ", data_size,
        " bytes but the tensors cover only the first ", covered, " (trailing bytes)");
}

void append_u64_le(std::string& out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

}  // namespace

SafetensorsFile read_safetensors(const std::string& path, bool keep_dtype) {
  InputFile file(path);
  const uint64_t file_size = file.size();
  check(file_size >= 8, "'", path, "' is ", file_size,
        " bytes long, too short for a safetensors file (the header length alone is 8 bytes)");

  unsigned char length_bytes[8];
  file.read_at(0, length_bytes, 8);
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | length_bytes[i];
  check(header_size <= kMaxHeaderBytes, "'", path, "': header length ", header_size,
        " bytes exceeds the limit of ", kMaxHeaderBytes, " (not a safetensors file?)");
  check(header_size <= file_size - 8, "'", path, "': header length ", header_size,
        " bytes is larger than the rest of the file (", file_size - 8,
        " bytes; truncated or not a safetensors file?)");

  std::string header_text(header_size, '\0');
  file.read_at(8, header_text.data(), header_size);
  const json header = parse_header(path, header_text);

  const uint64_t data_start = 8 + header_size;
  const uint64_t data_size = file_size - data_start;
  SafetensorsFile result;
  std::vector<Entry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name == kMetadataKey)
      result.metadata = parse_metadata(path, value);
    else
      entries.push_back(parse_entry(path, name, value, data_size));
  }
  check_layout(path, entries, data_size);

  // Everything is validated before any allocation, so each tensor can own exactly its bytes, read
  // straight into it in file order: one pass over the file, no intermediate buffer.
  for (const Entry& e : entries) {
    at::Tensor tensor = at::empty(e.shape, at::TensorOptions().dtype(e.dtype->type));
    file.read_at(data_start + e.begin, tensor.data_ptr(), e.end - e.begin);
    if (e.dtype->type == at::kBool) {
      // Torch assumes bools are stored as 0 or 1; other bytes would give inconsistent results.
      const auto* bytes = static_cast<const uint8_t*>(tensor.data_ptr());
      const auto bad = std::find_if(bytes, bytes + tensor.numel(), [](uint8_t b) { return b > 1; });
      if (bad != bytes + tensor.numel())
        fail("'", path, "': tensor '", e.name, "': BOOL element ", bad - bytes, " is ",
             static_cast<int>(*bad), ", expected 0 or 1");
    }
    if (!keep_dtype && (e.dtype->type == at::kHalf || e.dtype->type == at::kBFloat16))
      tensor = tensor.to(at::kFloat);
    result.tensors.emplace(e.name, std::move(tensor));
  }
  return result;
}

void write_safetensors(const std::string& path, const TensorMap& tensors,
                       const std::map<std::string, std::string>& metadata) {
  // ordered_json keeps "__metadata__" first and tensors in key order, as the reference writes them.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto& [key, value] : metadata) meta[key] = value;
    header[kMetadataKey] = std::move(meta);
  }

  std::vector<at::Tensor> contiguous;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    const std::string where = str_cat("cannot write '", path, "': tensor '", name, "'");
    check(name != kMetadataKey, where, ": the name is reserved for the metadata");
    check(tensor.defined(), where, " is undefined");
    check(tensor.layout() == at::kStrided, where, " has layout ", tensor.layout(),
          ", expected a dense (strided) tensor");
    const Dtype* dtype = dtype_by_type(tensor.scalar_type());
    check(dtype != nullptr, where, " has dtype ", tensor.scalar_type(), " (supported: ",
          supported_names(true), ")");
    at::Tensor cpu = tensor.detach().to(at::kCPU).contiguous();
    const uint64_t nbytes = static_cast<uint64_t>(cpu.numel()) * dtype->itemsize;

    nlohmann::ordered_json entry = nlohmann::ordered_json::object();
    entry["dtype"] = dtype->name;
    entry["shape"] = cpu.sizes().vec();
    entry["data_offsets"] = nlohmann::ordered_json::array({offset, offset + nbytes});
    header[name] = std::move(entry);
    offset += nbytes;
    contiguous.push_back(std::move(cpu));
  }

  std::string header_text;
  try {
    header_text = header.dump();
  } catch (const nlohmann::json::exception& e) {
    fail("cannot write '", path, "': a tensor name or metadata string is not valid UTF-8: ", e.what());
  }
  // Padding to 8 bytes keeps the data buffer 8-byte aligned for readers that map the file.
  header_text.append((8 - header_text.size() % 8) % 8, ' ');
  std::string prefix;
  append_u64_le(prefix, header_text.size());

  atomic_write(path, [&](std::ostream& out) {
    out.write(prefix.data(), static_cast<std::streamsize>(prefix.size()));
    out.write(header_text.data(), static_cast<std::streamsize>(header_text.size()));
    for (const at::Tensor& t : contiguous) {
      const auto nbytes = static_cast<std::streamsize>(t.numel() * t.element_size());
      if (nbytes > 0) out.write(static_cast<const char*>(t.data_ptr()), nbytes);
    }
  });
}

}  // namespace vitc
