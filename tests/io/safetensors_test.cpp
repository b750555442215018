// safetensors I/O: bitwise round trips, hand-assembled files, and clean vitc::Errors for corrupt ones.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.h"
#include "io/safetensors.h"
#include "util/error.h"
#include "util/files.h"

namespace vitc {
namespace {

namespace fs = std::filesystem;

using vitc::test_support::fresh_dir;

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::string u64_le(uint64_t value) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
  return out;
}

// A file assembled by hand, independent of the writer: length prefix, header text, data bytes.
std::string assemble(const std::string& header, const std::string& data) {
  return u64_le(header.size()) + header + data;
}

template <typename T>
std::string raw(std::initializer_list<T> values) {
  std::string out;
  for (T v : values) out.append(reinterpret_cast<const char*>(&v), sizeof(T));
  return out;
}

std::string tensor_bytes(const at::Tensor& t) {
  at::Tensor c = t.contiguous();
  return std::string(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size());
}

void expect_bitwise_equal(const at::Tensor& actual, const at::Tensor& expected, const std::string& name) {
  EXPECT_EQ(actual.scalar_type(), expected.scalar_type()) << name;
  EXPECT_EQ(actual.sizes(), expected.sizes()) << name;
  EXPECT_TRUE(actual.is_contiguous()) << name;
  EXPECT_TRUE(actual.device().is_cpu()) << name;
  EXPECT_EQ(tensor_bytes(actual), tensor_bytes(expected)) << name;
}

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  return names;
}

// Reading `path` must throw vitc::Error whose message names the path and every detail given.
void expect_read_error(const std::string& path, std::initializer_list<std::string> details) {
  try {
    read_safetensors(path);
    ADD_FAILURE() << "expected vitc::Error reading " << path;
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(path), std::string::npos) << "no path in: " << message;
    for (const std::string& detail : details)
      EXPECT_NE(message.find(detail), std::string::npos) << "no '" << detail << "' in: " << message;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected vitc::Error, got another exception: " << e.what();
  }
}

// A corrupt file with the given header text and data bytes must fail with the given details.
void expect_header_error(const std::string& dir, const std::string& header, const std::string& data,
                         std::initializer_list<std::string> details) {
  SCOPED_TRACE(header);
  const std::string path = dir + "/corrupt.safetensors";
  write_bytes(path, assemble(header, data));
  expect_read_error(path, details);
}

TensorMap sample_tensors() {
  at::manual_seed(0);
  TensorMap t;
  at::Tensor f32 = at::randn({2, 3});
  f32[0][0] = std::numeric_limits<float>::quiet_NaN();
  f32[0][1] = -0.0f;
  f32[0][2] = std::numeric_limits<float>::infinity();
  t["a.f32"] = f32;
  t["b.f16"] = at::randn({4, 1, 2}).to(at::kHalf);
  t["c.bf16"] = at::randn({3}).to(at::kBFloat16);
  t["d.f64"] = at::randn({2, 2}, at::kDouble);
  t["e.i64"] = at::tensor(std::vector<int64_t>{std::numeric_limits<int64_t>::min(), -1, 0,
                                               std::numeric_limits<int64_t>::max()});
  t["f.i32"] = at::arange(-6, 6, at::kInt).reshape({3, 4});
  t["g.i16"] = at::tensor(std::vector<int16_t>{-32768, 32767});
  t["h.i8"] = at::tensor(std::vector<int8_t>{-128, 0, 127});
  t["i.u8"] = at::tensor(std::vector<uint8_t>{0, 1, 255});
  t["j.bool"] = at::tensor(std::vector<uint8_t>{1, 0, 1}).to(at::kBool);
  t["k.scalar"] = at::scalar_tensor(3.5, at::kFloat);
  t["l.empty"] = at::empty({0, 5}, at::kFloat);
  t["m.empty_i64"] = at::empty({2, 0}, at::kLong);
  return t;
}

TEST(Safetensors, RoundTripIsBitwiseEqualForEveryDtype) {
  const std::string path = fresh_dir("round_trip") + "/model.safetensors";
  const TensorMap tensors = sample_tensors();
  const std::map<std::string, std::string> metadata{{"format", "pt"}, {"note", "ünïcode, \"quoted\""}, {"", "empty key"}};
  write_safetensors(path, tensors, metadata);

  const SafetensorsFile kept = read_safetensors(path, /*keep_dtype=*/true);
  EXPECT_EQ(kept.metadata, metadata);
  ASSERT_EQ(kept.tensors.size(), tensors.size());
  for (const auto& [name, expected] : tensors) {
    ASSERT_EQ(kept.tensors.count(name), 1u) << name;
    expect_bitwise_equal(kept.tensors.at(name), expected, name);
  }

  // Default: F16 and BF16 widen to float32, everything else keeps its dtype.
  const SafetensorsFile widened = read_safetensors(path);
  for (const auto& [name, expected] : tensors) {
    const bool half = expected.scalar_type() == at::kHalf || expected.scalar_type() == at::kBFloat16;
    expect_bitwise_equal(widened.tensors.at(name), half ? expected.to(at::kFloat) : expected, name);
  }
}

TEST(Safetensors, EmptyMapRoundTrips) {
  const std::string path = fresh_dir("empty_map") + "/empty.safetensors";
  write_safetensors(path, {});
  const std::string bytes = read_file(path);
  EXPECT_EQ(bytes, u64_le(8) + "{}      ");
  const SafetensorsFile file = read_safetensors(path);
  EXPECT_TRUE(file.tensors.empty());
  EXPECT_TRUE(file.metadata.empty());
}

TEST(Safetensors, WriterMatchesTheReferenceLayoutByteForByte) {
  const std::string path = fresh_dir("exact") + "/exact.safetensors";
  TensorMap tensors;
  tensors["b"] = at::tensor(std::vector<int16_t>{1, -2});
  tensors["a"] = at::tensor(std::vector<float>{1.0f});
  write_safetensors(path, tensors, {{"format", "pt"}});

  // What huggingface/safetensors writes: metadata first, fields dtype/shape/data_offsets, no
  // spaces, padding with spaces to a multiple of 8; tensors here in key order.
  std::string header =
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
      R"("b":{"dtype":"I16","shape":[2],"data_offsets":[4,8]}})";
  header.append((8 - header.size() % 8) % 8, ' ');
  const std::string expected = assemble(header, raw<float>({1.0f}) + raw<int16_t>({1, -2}));
  EXPECT_EQ(read_file(path), expected);
  EXPECT_EQ(header.size() % 8, 0u);
}

TEST(Safetensors, ReadsAHandAssembledFile) {
  const std::string path = fresh_dir("hand") + "/hand.safetensors";
  // Buffer order differs from key order (z first) and the header carries padding spaces.
  const std::string header =
      R"({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [3, 19]},)"
      R"( "z": {"dtype": "U8", "shape": [3], "data_offsets": [0, 3]},)"
      R"( "n": {"dtype": "I64", "shape": [], "data_offsets": [19, 27]},)"
      R"( "flags": {"dtype": "BOOL", "shape": [2], "data_offsets": [27, 29]},)"
      R"( "__metadata__": {"source": "hand"}}     )";
  const std::string data = raw<uint8_t>({7, 8, 9}) + raw<float>({1.5f, -2.0f, 3.25f, 4.0f}) +
                           raw<int64_t>({-123456789012345LL}) + raw<uint8_t>({1, 0});
  write_bytes(path, assemble(header, data));

  const SafetensorsFile file = read_safetensors(path);
  EXPECT_EQ(file.metadata, (std::map<std::string, std::string>{{"source", "hand"}}));
  ASSERT_EQ(file.tensors.size(), 4u);
  expect_bitwise_equal(file.tensors.at("w"),
                       at::tensor(std::vector<float>{1.5f, -2.0f, 3.25f, 4.0f}).reshape({2, 2}), "w");
  expect_bitwise_equal(file.tensors.at("z"), at::tensor(std::vector<uint8_t>{7, 8, 9}), "z");
  expect_bitwise_equal(file.tensors.at("n"), at::scalar_tensor(static_cast<int64_t>(-123456789012345LL), at::kLong), "n");
  expect_bitwise_equal(file.tensors.at("flags"),
                       at::tensor(std::vector<uint8_t>{1, 0}).to(at::kBool), "flags");
}

TEST(Safetensors, HalfAndBFloat16ReadAsFloat32) {
  const std::string path = fresh_dir("half") + "/half.safetensors";
  const std::string header =
      R"({"h": {"dtype": "F16", "shape": [5], "data_offsets": [0, 10]},)"
      R"( "b": {"dtype": "BF16", "shape": [2, 2], "data_offsets": [10, 18]}})";
  // IEEE half: 1, -2, 0.5, 65504 (largest finite), 2^-24 (smallest subnormal).
  // bfloat16: 1, -2, 3.140625, 1e38-ish (0x7E96 = 0x7E960000 as float32).
  const std::string data = raw<uint16_t>({0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001}) +
                           raw<uint16_t>({0x3F80, 0xC000, 0x4049, 0x7E96});
  write_bytes(path, assemble(header, data));

  const SafetensorsFile file = read_safetensors(path);
  const at::Tensor h = file.tensors.at("h");
  ASSERT_EQ(h.scalar_type(), at::kFloat);
  const std::vector<float> expected_h{1.0f, -2.0f, 0.5f, 65504.0f, 5.9604644775390625e-8f};
  for (size_t i = 0; i < expected_h.size(); ++i) EXPECT_EQ(h[i].item<float>(), expected_h[i]) << i;

  const at::Tensor b = file.tensors.at("b");
  ASSERT_EQ(b.scalar_type(), at::kFloat);
  ASSERT_EQ(b.sizes(), (std::vector<int64_t>{2, 2}));
  uint32_t big_bits = 0x7E960000u;
  float big;
  std::memcpy(&big, &big_bits, 4);
  const std::vector<float> expected_b{1.0f, -2.0f, 3.140625f, big};
  const at::Tensor flat = b.reshape({-1});
  for (size_t i = 0; i < expected_b.size(); ++i) EXPECT_EQ(flat[i].item<float>(), expected_b[i]) << i;

  const SafetensorsFile kept = read_safetensors(path, /*keep_dtype=*/true);
  EXPECT_EQ(kept.tensors.at("h").scalar_type(), at::kHalf);
  EXPECT_EQ(kept.tensors.at("b").scalar_type(), at::kBFloat16);
  EXPECT_EQ(tensor_bytes(kept.tensors.at("h")), data.substr(0, 10));
  EXPECT_EQ(tensor_bytes(kept.tensors.at("b")), data.substr(10));
}

TEST(Safetensors, FileLevelCorruptionNamesThePath) {
  const std::string dir = fresh_dir("file_level");
  const std::string path = dir + "/bad.safetensors";

  write_bytes(path, "");
  expect_read_error(path, {"0 bytes", "too short"});
  write_bytes(path, "abcde");
  expect_read_error(path, {"5 bytes", "too short"});

  write_bytes(path, u64_le(1000) + "{}");
  expect_read_error(path, {"header length 1000", "larger than the rest of the file"});

  write_bytes(path, u64_le(200'000'000) + "{}");
  expect_read_error(path, {"200000000", "exceeds the limit"});
  write_bytes(path, u64_le(std::numeric_limits<uint64_t>::max()) + "{}");
  expect_read_error(path, {"exceeds the limit"});

  expect_read_error(dir + "/missing.safetensors", {"cannot open"});
  expect_read_error(dir, {"not a regular file"});
}

TEST(Safetensors, HeaderCorruptionNamesTheTensorAndTheProblem) {
  const std::string dir = fresh_dir("header");
  const std::string f32x2 = raw<float>({1.0f, 2.0f});
  const auto entry = [](const std::string& fields) { return R"({"w": {)" + fields + "}}"; };

  // Not JSON, not an object.
  expect_header_error(dir, R"({"w": )", "", {"not valid JSON"});
  expect_header_error(dir, "", "", {"not valid JSON"});
  expect_header_error(dir, "[1, 2]", "", {"must be a JSON object", "array"});
  expect_header_error(dir, "\"text\"", "", {"must be a JSON object"});
  expect_header_error(dir, "{\"w\xff\": 1}", "", {"not valid JSON"});  // invalid UTF-8
  expect_header_error(dir, std::string(100000, '[') + std::string(100000, ']'), "",
                      {"the safetensors header nests deeper than 64 levels"});  // no stack overflow
  expect_header_error(dir, R"({"w": 5})", "", {"tensor 'w'", "must be an object"});

  // Missing fields and wrong types.
  expect_header_error(dir, entry(R"("shape": [2], "data_offsets": [0, 8])"), f32x2,
                      {"tensor 'w'", "no \"dtype\""});
  expect_header_error(dir, entry(R"("dtype": "F32", "data_offsets": [0, 8])"), f32x2,
                      {"tensor 'w'", "no \"shape\""});
  expect_header_error(dir, entry(R"("dtype": "F32", "shape": [2])"), f32x2,
                      {"tensor 'w'", "no \"data_offsets\""});
  expect_header_error(dir, entry(R"("dtype": 32, "shape": [2], "data_offsets": [0, 8])"), f32x2,
                      {"tensor 'w'", "\"dtype\" must be a string"});
  expect_header_error(dir, entry(R"("dtype": "F8_E4M3", "shape": [2], "data_offsets": [0, 8])"), f32x2,
                      {"tensor 'w'", "unknown dtype \"F8_E4M3\"",
                       "F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL"});
  expect_header_error(dir, entry(R"("dtype": "F32", "shape": 2, "data_offsets": [0, 8])"), f32x2,
                      {"tensor 'w'", "\"shape\" must be an array"});
  expect_header_error(dir, entry(R"("dtype": "F32", "shape": ["2"], "data_offsets": [0, 8])"), f32x2,
                      {"tensor 'w'", "shape[0]", "non-negative integer"});
  expect_header_error(dir, entry(R"("dtype": "F32", "shape": [2.0], "data_offsets": [0, 8])"), f32x2,
                      {"tensor 'w'", "shape[0]", "non-negative integer"});
  expect_header_error(dir, entry(R"("dtype": "F32", "shape": [2, -3], "data_offsets": [0, 8])"), f32x2,
                      {"tensor 'w'", "shape[1] is -3", "non-negative"});
  expect_header_error(dir,
                      entry(R"("dtype": "F32", "shape": [18446744073709551615], "data_offsets": [0, 8])"),
                      f32x2, {"tensor 'w'", "shape[0]", "too large"});
  expect_header_error(dir,
                      entry(R"("dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 8])"),
                      f32x2, {"tensor 'w'", "too many elements"});
  expect_header_error(dir,
                      entry(R"("dtype": "F32", "shape": [0, 4294967296, 4294967296], "data_offsets": [0, 0])"),
                      "", {"tensor 'w'", "too many elements"});
  expect_header_error(dir, entry(R"("dtype": "F64", "shape": [2305843009213693952], "data_offsets": [0, 8])"),
                      f32x2, {"tensor 'w'", "too many bytes"});
  expect_header_error(dir, entry(R"("dtype": "F32", "shape": [2], "data_offsets": "0-8")"), f32x2,
                      {"tensor 'w'", "must be [begin, end]"});
  expect_header_error(dir, entry(R"("dtype": "F32", "shape": [2], "data_offsets": [0, 4, 8])"), f32x2,
                      {"tensor 'w'", "must be [begin, end]"});
  expect_header_error(dir, entry(R"("dtype": "F32", "shape": [2], "data_offsets": [0, "8"])"), f32x2,
                      {"tensor 'w'", "data_offsets[1]", "non-negative integer"});
  expect_header_error(dir, entry(R"("dtype": "F32", "shape": [2], "data_offsets": [-8, 0])"), f32x2,
                      {"tensor 'w'", "data_offsets[0] is -8"});

  // Offsets inconsistent with the file or the shape.
  expect_header_error(dir, entry(R"("dtype": "F32", "shape": [2], "data_offsets": [8, 0])"), f32x2,
                      {"tensor 'w'", "begin > end"});
  expect_header_error(dir, entry(R"("dtype": "F32", "shape": [4], "data_offsets": [0, 16])"), f32x2,
                      {"tensor 'w'", "beyond the data buffer", "8 bytes"});
  expect_header_error(dir,
                      entry(R"("dtype": "F32", "shape": [2], "data_offsets": [0, 18446744073709551615])"),
                      f32x2, {"tensor 'w'", "beyond the data buffer"});
  expect_header_error(dir, entry(R"("dtype": "F32", "shape": [3], "data_offsets": [0, 8])"), f32x2,
                      {"tensor 'w'", "span 8 bytes", "needs 12"});

  // Layout: overlaps, holes, trailing bytes, duplicates.
  expect_header_error(dir,
                      R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},)"
                      R"( "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
                      f32x2, {"tensor 'b'", "overlaps tensor 'a'"});
  expect_header_error(dir,
                      R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},)"
                      R"( "b": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})",
                      f32x2, {"overlaps"});
  expect_header_error(dir,
                      R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
                      f32x2, {"bytes 0..4", "belong to no tensor", "'a'"});
  expect_header_error(dir, entry(R"("dtype": "F32", "shape": [1], "data_offsets": [0, 4])"), f32x2,
                      {"trailing", "8 bytes", "first 4"});
  expect_header_error(dir,
                      R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},)"
                      R"( "w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
                      f32x2, {"'w' twice"});

  // Metadata must map strings to strings.
  expect_header_error(dir, R"({"__metadata__": ["pt"]})", "", {"__metadata__", "must be an object"});
  expect_header_error(dir, R"({"__metadata__": {"format": "pt", "epoch": 3}})", "",
                      {"__metadata__", "'epoch'", "must be a string", "3"});

  // Bool bytes other than 0/1.
  expect_header_error(dir, entry(R"("dtype": "BOOL", "shape": [3], "data_offsets": [0, 3])"),
                      raw<uint8_t>({1, 0, 2}), {"tensor 'w'", "BOOL element 2 is 2"});
}

TEST(Safetensors, TruncatedFilesFailCleanlyAtEveryCut) {
  const std::string dir = fresh_dir("truncated");
  const std::string good = dir + "/good.safetensors";
  TensorMap tensors;
  tensors["a"] = at::arange(6, at::kFloat).reshape({2, 3});
  tensors["b"] = at::arange(3, at::kLong);
  tensors["c"] = at::scalar_tensor(1, at::kHalf);
  write_safetensors(good, tensors, {{"k", "v"}});
  const std::string bytes = read_file(good);
  ASSERT_GT(bytes.size(), 100u);

  const std::string cut = dir + "/cut.safetensors";
  for (size_t length = 0; length < bytes.size(); ++length) {
    SCOPED_TRACE(length);
    write_bytes(cut, bytes.substr(0, length));
    expect_read_error(cut, {});
  }
  // One extra byte is also corrupt (trailing data no tensor claims).
  write_bytes(cut, bytes + "x");
  expect_read_error(cut, {"trailing"});
}

// Random single-byte changes anywhere in a valid file: each read either succeeds or throws
// vitc::Error; never another exception type, a crash or an out-of-bounds read.
TEST(Safetensors, MutatedFilesReadOrFailWithVitcError) {
  const std::string dir = fresh_dir("mutated");
  const std::string good = dir + "/good.safetensors";
  TensorMap tensors;
  tensors["a"] = at::arange(6, at::kFloat).reshape({2, 3});
  tensors["b"] = at::tensor(std::vector<uint8_t>{1, 0, 1}).to(at::kBool);
  tensors["c"] = at::scalar_tensor(1, at::kBFloat16);
  write_safetensors(good, tensors, {{"k", "v"}});
  const std::string bytes = read_file(good);

  const std::string mutated = dir + "/mutated.safetensors";
  const char replacements[] = {'0', '9', '-', '[', ']', '{', '}', '"', ',', ':', ' ', 'x', '\0', '\xff'};
  uint64_t state = 12345;
  int read_ok = 0;
  for (int trial = 0; trial < 600; ++trial) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;  // deterministic LCG
    const size_t position = (state >> 33) % bytes.size();
    std::string copy = bytes;
    copy[position] = replacements[(state >> 17) % sizeof(replacements)];
    write_bytes(mutated, copy);
    try {
      read_safetensors(mutated);
      ++read_ok;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(mutated), std::string::npos) << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "byte " << position << ": not a vitc::Error: " << e.what();
    }
  }
  EXPECT_GT(read_ok, 0);  // some changes (inside data, padding) leave a valid file
}

TEST(Safetensors, WriterReplacesAtomicallyAndLeavesNoTemporary) {
  const std::string dir = fresh_dir("atomic");
  const std::string path = dir + "/model.safetensors";
  write_safetensors(path, {{"x", at::ones({3})}});
  write_safetensors(path, {{"y", at::zeros({2}, at::kInt)}}, {{"v", "2"}});
  EXPECT_EQ(list_dir(dir), std::vector<std::string>{"model.safetensors"});
  SafetensorsFile file = read_safetensors(path);
  ASSERT_EQ(file.tensors.size(), 1u);
  expect_bitwise_equal(file.tensors.at("y"), at::zeros({2}, at::kInt), "y");
  EXPECT_EQ(file.metadata.at("v"), "2");

  // A rejected write leaves the previous file untouched and no temporary behind.
  const std::string before = read_file(path);
  EXPECT_THROW(write_safetensors(path, {{"a", at::ones({1})}, {"z", at::ones({2}, at::kComplexFloat)}}),
               Error);
  EXPECT_EQ(read_file(path), before);
  EXPECT_EQ(list_dir(dir), std::vector<std::string>{"model.safetensors"});
}

TEST(Safetensors, WriterRejectsBadTensorsWithClearMessages) {
  const std::string path = fresh_dir("reject") + "/bad.safetensors";
  const auto expect_write_error = [&](const TensorMap& tensors, std::initializer_list<std::string> details) {
    try {
      write_safetensors(path, tensors);
      ADD_FAILURE() << "expected vitc::Error";
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(path), std::string::npos) << message;
      for (const std::string& d : details) EXPECT_NE(message.find(d), std::string::npos) << d << " / " << message;
    }
  };
  expect_write_error({{"z", at::ones({2}, at::kComplexFloat)}}, {"tensor 'z'", "ComplexFloat", "float32, float16"});
  expect_write_error({{"u", at::Tensor()}}, {"tensor 'u'", "undefined"});
  expect_write_error({{"__metadata__", at::ones({1})}}, {"__metadata__", "reserved"});
  expect_write_error({{"s", at::ones({2, 2}).to_sparse()}}, {"tensor 's'", "layout"});
  EXPECT_FALSE(fs::exists(path));
}

TEST(Safetensors, WritesNonContiguousTensors) {
  const std::string path = fresh_dir("non_contiguous") + "/nc.safetensors";
  const at::Tensor base = at::arange(24, at::kFloat).reshape({2, 3, 4});
  TensorMap tensors;
  tensors["transposed"] = base.transpose(0, 2);
  tensors["strided"] = base.slice(2, 0, 4, 2);
  tensors["expanded"] = at::arange(3, at::kLong).unsqueeze(0).expand({4, 3});
  tensors["offset_view"] = base[1];
  tensors["requires_grad"] = at::ones({2}).set_requires_grad(true);
  for (const auto& [name, t] : tensors) {
    if (name != "offset_view" && name != "requires_grad") {
      EXPECT_FALSE(t.is_contiguous()) << name;
    }
  }
  write_safetensors(path, tensors);

  const SafetensorsFile file = read_safetensors(path);
  for (const auto& [name, expected] : tensors)
    expect_bitwise_equal(file.tensors.at(name), expected.detach().contiguous(), name);
}

}  // namespace
}  // namespace vitc
