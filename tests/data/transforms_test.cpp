// DeiT transforms: torchvision's resize/crop geometry, seeded random resized crops, bicubic
// resizing and normalisation.
#include "data/transforms.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "util/error.h"

namespace vitc {
namespace {

TEST(Transforms, ResizeShapeFollowsTorchvision) {
  // torchvision Resize(256) of a 500 x 375 (w x h) photo: h -> 256, w -> int(256 * 500 / 375).
  EXPECT_EQ(resize_short_side_shape(375, 500, 256), (std::pair<int64_t, int64_t>{256, 341}));
  EXPECT_EQ(resize_short_side_shape(500, 375, 256), (std::pair<int64_t, int64_t>{341, 256}));
  EXPECT_EQ(resize_short_side_shape(100, 100, 256), (std::pair<int64_t, int64_t>{256, 256}));
  EXPECT_THROW(resize_short_side_shape(0, 10, 256), Error);
}

TEST(Transforms, CenterCropRoundsHalfToEvenAsPython) {
  const CropBox box = center_crop_box(256, 341, 224);
  EXPECT_EQ(box.top, 16);
  EXPECT_EQ(box.left, 58);  // round(58.5) == 58 in Python
  EXPECT_EQ(center_crop_box(256, 343, 224).left, 60);  // round(59.5) == 60
  EXPECT_THROW(center_crop_box(100, 300, 224), Error);
}

TEST(Transforms, RandomResizedCropIsSeededAndInRange) {
  RandomResizedCropOptions options;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    std::mt19937_64 a(seed), b(seed);
    const CropBox x = random_resized_crop_box(300, 400, options, a);
    const CropBox y = random_resized_crop_box(300, 400, options, b);
    EXPECT_EQ(x.top, y.top);
    EXPECT_EQ(x.left, y.left);
    EXPECT_EQ(x.height, y.height);
    EXPECT_EQ(x.width, y.width);
    ASSERT_GT(x.height, 0);
    ASSERT_GT(x.width, 0);
    EXPECT_LE(x.top + x.height, 300);
    EXPECT_LE(x.left + x.width, 400);
    const double area = static_cast<double>(x.height * x.width) / (300.0 * 400.0);
    EXPECT_GE(area, 0.07);  // 0.08 up to rounding of the sides
    const double ratio = static_cast<double>(x.width) / x.height;
    EXPECT_GE(ratio, 0.70);
    EXPECT_LE(ratio, 1.40);
  }
  // An image too thin for any try falls back to the central crop with the ratio clamped.
  std::mt19937_64 rng(1);
  const CropBox thin = random_resized_crop_box(2, 400, options, rng);
  EXPECT_EQ(thin.height, 2);
  EXPECT_EQ(thin.width, 3);  // round(2 * 4/3)
  EXPECT_EQ(thin.left, (400 - 3) / 2);
}

TEST(Transforms, ImageToTensorCopiesEveryChannelCount) {
  for (int channels : {1, 3}) {
    Image image{3, 2, channels, {}};
    for (int i = 0; i < 6 * channels; ++i) image.pixels.push_back(static_cast<uint8_t>(10 + i));
    const at::Tensor t = image_to_tensor(image);
    ASSERT_EQ(t.sizes(), (std::vector<int64_t>{channels, 2, 3}));
    std::fill(image.pixels.begin(), image.pixels.end(), 0);  // the tensor must own its pixels
    EXPECT_EQ(t[0][1][2].item<uint8_t>(), 10 + 5 * channels);
    if (channels == 3) {
      EXPECT_EQ(t[2][0][1].item<uint8_t>(), 10 + 3 + 2);
    }
  }
}

TEST(Transforms, BicubicResizeKeepsConstantsAndShrinksSmoothly) {
  const at::Tensor flat = at::full({3, 40, 60}, 77, at::kByte);
  const at::Tensor small = resize_bicubic(flat, 10, 15);
  EXPECT_EQ(small.sizes(), (std::vector<int64_t>{3, 10, 15}));
  EXPECT_TRUE(small.eq(77).all().item<bool>());
  // A fine checkerboard averages out when shrunk with antialiasing (without it, it aliases).
  const at::Tensor board =
      (at::arange(64).view({8, 8}).remainder(2) ^ at::arange(64).view({8, 8}).div(8, "floor").remainder(2))
          .mul(255)
          .to(at::kByte)
          .unsqueeze(0)
          .repeat({1, 8, 8});
  const at::Tensor shrunk = resize_bicubic(board, 8, 8).to(at::kFloat);
  EXPECT_LT((shrunk - 127.5).abs().max().item<float>(), 40.0f);
  // Same size: unchanged.
  EXPECT_TRUE(resize_bicubic(board, 64, 64).equal(board));
}

TEST(Transforms, EvalTransformShapesAndCenter) {
  // A 30 x 40 image whose centre 10 x 10 is white: resize short side to 16 / 0.5 = 32, crop 16.
  at::Tensor image = at::zeros({1, 30, 40}, at::kByte);
  image.narrow(1, 10, 10).narrow(2, 15, 10).fill_(255);
  const at::Tensor out = eval_transform(image, 16, 0.5);
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{1, 16, 16}));
  EXPECT_GT(out[0][8][8].item<uint8_t>(), 200);  // the centre stays white
  EXPECT_LT(out[0][0][0].item<uint8_t>(), 30);   // the corner stays black
  EXPECT_THROW(eval_transform(image, 16, 0.0), Error);
}

TEST(Transforms, TrainTransformIsSeeded) {
  const at::Tensor image = at::arange(3 * 50 * 60).remainder(251).to(at::kByte).view({3, 50, 60});
  RandomResizedCropOptions options;
  std::mt19937_64 a(7), b(7), c(8);
  const at::Tensor x = train_transform(image, 24, options, a);
  EXPECT_EQ(x.sizes(), (std::vector<int64_t>{3, 24, 24}));
  EXPECT_TRUE(x.equal(train_transform(image, 24, options, b)));
  bool differs = false;
  for (int i = 0; i < 5 && !differs; ++i) differs = !x.equal(train_transform(image, 24, options, c));
  EXPECT_TRUE(differs);
}

TEST(Transforms, NormalizeUsesMeanAndStd) {
  const at::Tensor pixels = at::tensor(std::vector<uint8_t>{0, 255, 51, 102}).view({2, 1, 2});
  const at::Tensor out = normalize_pixels(pixels, {0.5, 0.2}, {0.5, 0.1});
  EXPECT_NEAR(out[0][0][0].item<float>(), -1.0, 1e-6);
  EXPECT_NEAR(out[0][0][1].item<float>(), 1.0, 1e-6);
  EXPECT_NEAR(out[1][0][0].item<float>(), 0.0, 1e-5);
  EXPECT_NEAR(out[1][0][1].item<float>(), 2.0, 1e-5);
  EXPECT_THROW(normalize_pixels(pixels, {0.5}, {0.5}), Error);
}

}  // namespace
}  // namespace vitc
