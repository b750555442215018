// Hostile image and safetensors files: decompression bombs are refused from their headers, huge
// or deep safetensors headers fail fast with a named error.
#include <zlib.h>

#include <gtest/gtest.h>

#include "io/image_decode.h"
#include "io/image_test_util.h"
#include "io/safetensors.h"
#include "test_support.h"

namespace vitc {
namespace {

using test_support::expect_error;

void put_be32(std::string& bytes, size_t at, uint32_t value) {
  for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<char>(value >> (24 - 8 * i));
}

// A valid 16x16 PNG whose IHDR then claims `width` x `height` (with a correct CRC, so libpng
// believes it): a 100-byte file can claim 30000 x 30000 pixels.
std::string png_claiming(const std::string& dir, uint32_t width, uint32_t height) {
  testing::write_png(dir + "/small.png", 16, 16, PNG_COLOR_TYPE_RGB, 8, testing::gradient(16, 16, 3));
  std::string bytes = testing::read_bytes(dir + "/small.png");
  // Signature (8), IHDR length (4), "IHDR" at 12, width at 16, height at 20, CRC at 29.
  EXPECT_EQ(bytes.substr(12, 4), "IHDR");
  put_be32(bytes, 16, width);
  put_be32(bytes, 20, height);
  const auto* type_and_data = reinterpret_cast<const Bytef*>(bytes.data() + 12);
  put_be32(bytes, 29, static_cast<uint32_t>(crc32(0L, type_and_data, 17)));
  return bytes;
}

// A valid 16x16 JPEG whose SOF frame header then claims `width` x `height`.
std::string jpeg_claiming(const std::string& dir, uint16_t width, uint16_t height) {
  testing::write_jpeg(dir + "/small.jpg", 16, 16, 3, testing::gradient(16, 16, 3));
  std::string bytes = testing::read_bytes(dir + "/small.jpg");
  for (size_t i = 2; i + 9 < bytes.size(); ++i) {
    const auto marker = static_cast<uint8_t>(bytes[i + 1]);
    if (static_cast<uint8_t>(bytes[i]) == 0xFF && (marker == 0xC0 || marker == 0xC2)) {
      // FF C0, length (2), precision (1), height (2), width (2)
      bytes[i + 5] = static_cast<char>(height >> 8);
      bytes[i + 6] = static_cast<char>(height & 0xFF);
      bytes[i + 7] = static_cast<char>(width >> 8);
      bytes[i + 8] = static_cast<char>(width & 0xFF);
      return bytes;
    }
  }
  ADD_FAILURE() << "no SOF marker in the test JPEG";
  return bytes;
}

TEST(HostileImages, PngClaimingHugeSizeIsRefusedFromItsHeader) {
  const std::string dir = test_support::fresh_dir("png_bomb");
  const std::string bomb = png_claiming(dir, 30000, 30000);
  EXPECT_LT(bomb.size(), 2000u);
  expect_error([&] { decode_image(bomb, "bomb.png"); },
               {"bomb.png", "claims 30000 x 30000 = 900000000 pixels", "--max-image-pixels"});
  expect_error([&] { decode_image(bomb, "bomb.png", 1); }, {"900000000 pixels"});
}

TEST(HostileImages, JpegClaimingHugeSizeIsRefusedFromItsHeader) {
  const std::string dir = test_support::fresh_dir("jpeg_bomb");
  const std::string bomb = jpeg_claiming(dir, 65000, 65000);
  expect_error([&] { decode_image(bomb, "bomb.jpg"); },
               {"bomb.jpg", "claims 65000 x 65000 = 4225000000 pixels"});
}

TEST(HostileImages, TheLimitIsAdjustable) {
  const std::string dir = test_support::fresh_dir("pixel_limit");
  testing::write_png(dir + "/a.png", 16, 16, PNG_COLOR_TYPE_GRAY, 8, testing::gradient(16, 16, 1));
  const std::string png = testing::read_bytes(dir + "/a.png");
  EXPECT_EQ(max_image_pixels(), kDefaultMaxImagePixels);
  set_max_image_pixels(255);
  expect_error([&] { decode_image(png, "a.png"); }, {"a.png", "16 x 16 = 256 pixels", "limit of 255"});
  set_max_image_pixels(256);
  EXPECT_EQ(decode_image(png, "a.png", 1).width, 16);
  set_max_image_pixels(kDefaultMaxImagePixels);
  expect_error([] { set_max_image_pixels(0); }, {"must be positive"});
}

// A header whose tensor claims a shape of `rank` dimensions.
std::string safetensors_with_rank(size_t rank) {
  std::string shape = "[";
  for (size_t i = 0; i < rank; ++i) shape += i ? ",1" : "1";
  shape += "]";
  std::string header = R"({"w": {"dtype": "F32", "shape": )" + shape + R"(, "data_offsets": [0, 4]}})";
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((header.size() >> (8 * i)) & 0xFF);
  return bytes + header + std::string(4, '\0');
}

TEST(HostileSafetensors, HugeRankFailsFastNamingTheTensor) {
  const std::string dir = test_support::fresh_dir("rank");
  const std::string path = dir + "/w.safetensors";
  test_support::write_text(path, safetensors_with_rank(8));
  EXPECT_EQ(read_safetensors(path).tensors.at("w").dim(), 8);
  // 100,000 dimensions took over a minute (a message rebuilt per dimension); now one check.
  test_support::write_text(path, safetensors_with_rank(100000));
  expect_error([&] { read_safetensors(path); },
               {path, "tensor 'w'", "has 100000 dimensions, at most 8"});
}

TEST(HostileSafetensors, DeepValuesInEveryFieldAreRefused) {
  const std::string dir = test_support::fresh_dir("deep_fields");
  const std::string path = dir + "/w.safetensors";
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  for (const std::string& header :
       {R"({"w": {"dtype": )" + deep + R"(, "shape": [1], "data_offsets": [0, 4]}})",
        R"({"w": {"dtype": "F32", "shape": [)" + deep + R"(], "data_offsets": [0, 4]}})",
        R"({"__metadata__": {"a": )" + deep + "}}"}) {
    std::string bytes(8, '\0');
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((header.size() >> (8 * i)) & 0xFF);
    test_support::write_text(path, bytes + header);
    expect_error([&] { read_safetensors(path); }, {path, "nests deeper than 64 levels"});
  }
}

}  // namespace
}  // namespace vitc
