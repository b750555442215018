// Batch augmentation: shapes, identity when off, flips equal torch::flip, crops equal a per-image
// reference built from pad + narrow, and seeding.
#include <set>

#include <gtest/gtest.h>

#include "data/augment.h"
#include "data_test_util.h"

namespace vitc {
namespace {

at::Tensor random_images(int64_t b, int64_t c, int64_t h, int64_t w, uint64_t seed) {
  at::manual_seed(seed);
  return at::randn({b, c, h, w});
}

// The straightforward per-image definition that apply_augment must match.
at::Tensor reference(const at::Tensor& images, const AugmentDraws& draws, int pad, double fill) {
  const int64_t h = images.size(2), w = images.size(3);
  std::vector<at::Tensor> out;
  for (int64_t i = 0; i < images.size(0); ++i) {
    at::Tensor padded = at::constant_pad_nd(images[i], {pad, pad, pad, pad}, fill);
    at::Tensor crop = padded.narrow(1, draws.top[static_cast<size_t>(i)], h)
                          .narrow(2, draws.left[static_cast<size_t>(i)], w);
    out.push_back(draws.flip[static_cast<size_t>(i)] ? at::flip(crop, {2}) : crop);
  }
  return at::stack(out);
}

TEST(Augment, OffIsIdentity) {
  const at::Tensor images = random_images(8, 1, 28, 28, 1);
  const at::Tensor out = augment_images(images, AugmentOptions{}, -0.8, 123);
  EXPECT_TRUE(at::equal(out, images));
  // Draws that leave every image in place are the identity too.
  AugmentDraws centred{std::vector<int64_t>(8, 3), std::vector<int64_t>(8, 3),
                       std::vector<uint8_t>(8, 0)};
  EXPECT_TRUE(at::equal(apply_augment(images, centred, 3, -0.8), images));
}

TEST(Augment, KeepsShapesAndDtype) {
  const at::Tensor images = random_images(128, 1, 28, 28, 2);
  const at::Tensor out = augment_images(images, AugmentOptions{2, true}, -0.8, 5);
  EXPECT_EQ(out.sizes(), images.sizes());
  EXPECT_EQ(out.scalar_type(), at::kFloat);
  EXPECT_TRUE(out.is_contiguous());
  const at::Tensor rgb = random_images(4, 3, 8, 6, 3);
  EXPECT_EQ(augment_images(rgb, AugmentOptions{2, true}, 0, 5).sizes(), rgb.sizes());
}

TEST(Augment, FlippedImagesEqualTorchFlip) {
  const at::Tensor images = random_images(64, 1, 28, 28, 4);
  const AugmentOptions options{0, true};
  const AugmentDraws draws = draw_augment(64, options, 77);
  const at::Tensor out = augment_images(images, options, -0.8, 77);
  int flipped = 0;
  for (int64_t i = 0; i < 64; ++i) {
    if (draws.flip[static_cast<size_t>(i)]) {
      ++flipped;
      EXPECT_TRUE(at::equal(out[i], at::flip(images[i], {2}))) << "image " << i;
    } else {
      EXPECT_TRUE(at::equal(out[i], images[i])) << "image " << i;
    }
  }
  EXPECT_GT(flipped, 10);
  EXPECT_LT(flipped, 54);
}

TEST(Augment, CropsMatchPerImageReference) {
  for (int pad : {1, 2, 4}) {
    const at::Tensor images = random_images(32, 3, 9, 7, static_cast<uint64_t>(pad));
    const AugmentOptions options{pad, true};
    const AugmentDraws draws = draw_augment(32, options, 1000 + static_cast<uint64_t>(pad));
    const at::Tensor out = apply_augment(images, draws, pad, -0.8);
    EXPECT_TRUE(at::equal(out, reference(images, draws, pad, -0.8))) << "pad " << pad;
  }
}

TEST(Augment, PadsWithTheFillValue) {
  const at::Tensor images = at::ones({1, 1, 5, 5});
  AugmentDraws corner{{0}, {0}, {0}};  // shift right and down by pad: top rows/left cols are fill
  const at::Tensor out = apply_augment(images, corner, 2, -0.81);
  EXPECT_TRUE(at::equal(out[0][0].narrow(0, 0, 2), at::full({2, 5}, -0.81f)));
  EXPECT_TRUE(at::equal(out[0][0].narrow(1, 0, 2), at::full({5, 2}, -0.81f)));
  EXPECT_TRUE(at::equal(out[0][0].narrow(0, 2, 3).narrow(1, 2, 3), at::ones({3, 3})));
}

TEST(Augment, DrawsAreSeededAndCoverAllOffsets) {
  const AugmentOptions options{2, true};
  const AugmentDraws a = draw_augment(500, options, 9);
  const AugmentDraws b = draw_augment(500, options, 9);
  const AugmentDraws c = draw_augment(500, options, 10);
  EXPECT_EQ(a.top, b.top);
  EXPECT_EQ(a.left, b.left);
  EXPECT_EQ(a.flip, b.flip);
  EXPECT_NE(a.top, c.top);
  std::set<int64_t> tops(a.top.begin(), a.top.end()), lefts(a.left.begin(), a.left.end());
  EXPECT_EQ(tops, (std::set<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(lefts, (std::set<int64_t>{0, 1, 2, 3, 4}));
  const at::Tensor images = random_images(16, 1, 28, 28, 5);
  const at::Tensor first = augment_images(images, options, 0, 3);
  EXPECT_TRUE(at::equal(first, augment_images(images, options, 0, 3)));
  EXPECT_FALSE(at::equal(first, augment_images(images, options, 0, 4)));
}

TEST(Augment, RejectsBadInput) {
  const at::Tensor images = at::zeros({2, 1, 4, 4});
  testing::expect_error([&] { augment_images(images, AugmentOptions{5, false}, 0, 0); },
                        {"pad 5", "image side"});
  testing::expect_error([&] { draw_augment(2, AugmentOptions{-1, false}, 0); }, {"pad", "-1"});
  testing::expect_error(
      [&] { augment_images(at::zeros({2, 4, 4}), AugmentOptions{1, true}, 0, 0); }, {"[B,C,H,W]"});
  AugmentDraws wrong{{0}, {0}, {0}};
  testing::expect_error([&] { apply_augment(images, wrong, 1, 0); }, {"1 images", "has 2"});
  AugmentDraws outside{{0, 3}, {0, 0}, {0, 0}};
  testing::expect_error([&] { apply_augment(images, outside, 1, 0); }, {"image 1", "0..2"});
}

}  // namespace
}  // namespace vitc
