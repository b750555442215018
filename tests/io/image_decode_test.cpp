// JPEG and PNG decoding: exact pixels for PNG (all colour types), close pixels for JPEG (gray,
// RGB, Adobe CMYK), grayscale conversion, and errors that name the file.
#include "io/image_decode.h"

#include <gtest/gtest.h>

#include "io/image_test_util.h"
#include "util/error.h"
#include "test_support.h"

namespace vitc {
namespace {

using namespace vitc::testing;

int max_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  EXPECT_EQ(a.size(), b.size());
  int worst = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

using test_support::error_of;

TEST(ImageDecode, PngRgbIsExact) {
  const std::string dir = fresh_dir("png_rgb");
  const auto pixels = gradient(7, 5, 3);
  write_png(dir + "/a.png", 7, 5, PNG_COLOR_TYPE_RGB, 8, pixels);
  const Image image = read_image(dir + "/a.png");
  EXPECT_EQ(image.width, 7);
  EXPECT_EQ(image.height, 5);
  EXPECT_EQ(image.channels, 3);
  EXPECT_EQ(image.pixels, pixels);
}

TEST(ImageDecode, PngGrayAlphaPaletteAnd16Bit) {
  const std::string dir = fresh_dir("png_kinds");
  // Gray -> RGB repeats the channel; asked for gray it stays as it is.
  const auto gray = gradient(4, 3, 1);
  write_png(dir + "/gray.png", 4, 3, PNG_COLOR_TYPE_GRAY, 8, gray);
  const Image rgb = read_image(dir + "/gray.png", 3);
  for (size_t i = 0; i < gray.size(); ++i) {
    EXPECT_EQ(rgb.pixels[3 * i], gray[i]);
    EXPECT_EQ(rgb.pixels[3 * i + 2], gray[i]);
  }
  EXPECT_EQ(read_image(dir + "/gray.png", 1).pixels, gray);

  // RGBA: alpha dropped, colour kept.
  std::vector<uint8_t> rgba = {10, 20, 30, 0, 200, 100, 50, 255};
  write_png(dir + "/rgba.png", 2, 1, PNG_COLOR_TYPE_RGB_ALPHA, 8, rgba);
  EXPECT_EQ(read_image(dir + "/rgba.png").pixels, (std::vector<uint8_t>{10, 20, 30, 200, 100, 50}));

  // Palette: indices become the palette's colours.
  write_png(dir + "/pal.png", 3, 1, PNG_COLOR_TYPE_PALETTE, 8, {2, 0, 1},
            {255, 0, 0, 0, 255, 0, 0, 0, 255});
  EXPECT_EQ(read_image(dir + "/pal.png").pixels,
            (std::vector<uint8_t>{0, 0, 255, 255, 0, 0, 0, 255, 0}));

  // 16-bit: the high byte of each sample.
  write_png(dir + "/deep.png", 1, 1, PNG_COLOR_TYPE_RGB, 16, {0x12, 0x34, 0xAB, 0xCD, 0xFF, 0x00});
  EXPECT_EQ(read_image(dir + "/deep.png").pixels, (std::vector<uint8_t>{0x12, 0xAB, 0xFF}));
}

TEST(ImageDecode, RgbToGrayUsesPilWeights) {
  const std::string dir = fresh_dir("png_luma");
  write_png(dir + "/c.png", 3, 1, PNG_COLOR_TYPE_RGB, 8, {255, 0, 0, 0, 255, 0, 10, 200, 30});
  const Image gray = read_image(dir + "/c.png", 1);
  ASSERT_EQ(gray.channels, 1);
  // PIL: L = R*299/1000 + G*587/1000 + B*114/1000 (fixed point, rounded).
  EXPECT_EQ(gray.pixels, (std::vector<uint8_t>{76, 150, 124}));
}

TEST(ImageDecode, JpegRgbGrayAndCmyk) {
  const std::string dir = fresh_dir("jpeg");
  const auto pixels = gradient(32, 24, 3);
  write_jpeg(dir + "/rgb.jpg", 32, 24, 3, pixels, 100);
  const Image rgb = read_image(dir + "/rgb.jpg");
  EXPECT_EQ(rgb.width, 32);
  EXPECT_EQ(rgb.height, 24);
  EXPECT_LE(max_diff(rgb.pixels, pixels), 12);

  const auto gray = gradient(16, 16, 1);
  write_jpeg(dir + "/gray.jpg", 16, 16, 1, gray, 100);
  const Image g = read_image(dir + "/gray.jpg", 1);
  EXPECT_EQ(g.channels, 1);
  EXPECT_LE(max_diff(g.pixels, gray), 4);
  const Image g3 = read_image(dir + "/gray.jpg", 3);
  EXPECT_EQ(g3.channels, 3);
  EXPECT_EQ(g3.pixels[0], g3.pixels[1]);

  // CMYK as Adobe stores it (inverted inks): C=0, M=255, Y=255, K=0 is pure red, so the bytes
  // are 255, 0, 0, 255; half black (K=128) on white: bytes 255, 255, 255, 127.
  std::vector<uint8_t> cmyk;
  for (int i = 0; i < 64; ++i) {
    const bool red = i < 32;
    const std::vector<uint8_t> px = red ? std::vector<uint8_t>{255, 0, 0, 255}
                                        : std::vector<uint8_t>{255, 255, 255, 127};
    cmyk.insert(cmyk.end(), px.begin(), px.end());
  }
  write_jpeg(dir + "/cmyk.jpg", 8, 8, 4, cmyk, 100);
  const Image c = read_image(dir + "/cmyk.jpg");
  ASSERT_EQ(c.channels, 3);
  const auto at = [&](int x, int y, int ch) { return c.pixels[(y * 8 + x) * 3 + ch]; };
  EXPECT_NEAR(at(2, 1, 0), 255, 6);  // top half red
  EXPECT_NEAR(at(2, 1, 1), 0, 6);
  EXPECT_NEAR(at(2, 1, 2), 0, 6);
  EXPECT_NEAR(at(5, 6, 0), 127, 6);  // bottom half grey
  EXPECT_NEAR(at(5, 6, 1), 127, 6);
}

TEST(ImageDecode, FormatComesFromTheBytesNotTheName) {
  const std::string dir = fresh_dir("sniff");
  write_png(dir + "/really_png.jpg", 2, 2, PNG_COLOR_TYPE_GRAY, 8, {1, 2, 3, 4});
  EXPECT_EQ(sniff_image_format(read_bytes(dir + "/really_png.jpg")), ImageFormat::kPng);
  EXPECT_EQ(read_image(dir + "/really_png.jpg", 1).pixels, (std::vector<uint8_t>{1, 2, 3, 4}));
}

TEST(ImageDecode, BadFilesAreErrorsNamingThePath) {
  const std::string dir = fresh_dir("bad");
  write_jpeg(dir + "/full.jpg", 32, 32, 3, gradient(32, 32, 3));
  const std::string jpeg = read_bytes(dir + "/full.jpg");
  write_bytes(dir + "/cut.jpg", jpeg.substr(0, jpeg.size() / 2));
  std::string message = error_of([&] { read_image(dir + "/cut.jpg"); });
  EXPECT_NE(message.find(dir + "/cut.jpg"), std::string::npos) << message;
  EXPECT_NE(message.find("JPEG"), std::string::npos) << message;

  write_png(dir + "/full.png", 16, 16, PNG_COLOR_TYPE_RGB, 8, gradient(16, 16, 3));
  const std::string png = read_bytes(dir + "/full.png");
  write_bytes(dir + "/cut.png", png.substr(0, png.size() - 30));
  message = error_of([&] { read_image(dir + "/cut.png"); });
  EXPECT_NE(message.find(dir + "/cut.png"), std::string::npos) << message;
  EXPECT_NE(message.find("PNG"), std::string::npos) << message;

  std::string garbled = png;
  for (size_t i = 40; i < garbled.size(); i += 7) garbled[i] = static_cast<char>(garbled[i] ^ 0x5A);
  write_bytes(dir + "/garbled.png", garbled);
  EXPECT_NE(error_of([&] { read_image(dir + "/garbled.png"); }).find("garbled.png"), std::string::npos);

  write_bytes(dir + "/text.png", "not an image at all");
  message = error_of([&] { read_image(dir + "/text.png"); });
  EXPECT_NE(message.find("neither a JPEG nor a PNG"), std::string::npos) << message;

  message = error_of([&] { read_image(dir + "/missing.jpg"); });
  EXPECT_NE(message.find("missing.jpg"), std::string::npos) << message;
}

}  // namespace
}  // namespace vitc
