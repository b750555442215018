// Model inversion of a briefly trained Fashion-MNIST teacher: the loss falls, the teacher
// classifies most synthetic images as their targets, and the set saves as viewable PNGs and
// loads back unchanged.
#include <fstream>

#include <gtest/gtest.h>

#include "compress/common/model_inversion.h"
#include "dcvit_test_util.h"
#include "util/error.h"

namespace vitc {
namespace {

TEST(ModelInversion, TargetsAreBalancedDistinctAndSeeded) {
  EXPECT_EQ(inversion_targets(10, 10, 1), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  const std::vector<int64_t> five = inversion_targets(5, 10, 2023);
  EXPECT_EQ(std::set<int64_t>(five.begin(), five.end()).size(), 5u);
  EXPECT_EQ(five, inversion_targets(5, 10, 2023));
  EXPECT_TRUE(std::is_sorted(five.begin(), five.end()));
  const std::vector<int64_t> many = inversion_targets(25, 10, 0);
  for (int c = 0; c < 10; ++c) EXPECT_GE(std::count(many.begin(), many.end(), c), 2);
}

TEST(ModelInversion, MovesNoiseTowardsTheTargetClasses) {
  VisionTransformer teacher = test::trained_fm_tiny(test::fm_subset("train", 9600));
  teacher->zero_grad();  // training left gradients behind; the inversion must add none
  InversionOptions o;
  o.count = 20;
  o.iterations = 200;
  o.quiet = true;
  const SyntheticSet set = invert_teacher(*teacher, o);
  EXPECT_LT(set.info["best_loss"].get<double>(), 0.5 * set.info["first_loss"].get<double>());
  // Most images are classified as their targets (chance: 10%).
  EXPECT_GT(set.info["teacher_agreement"].get<double>(), 0.5) << set.info.dump();
  ASSERT_EQ(set.images.sizes(), (at::IntArrayRef{20, 1, 28, 28}));
  // The teacher's parameters were left as they were (no gradients, training flags restored).
  for (const auto& p : teacher->parameters()) {
    EXPECT_TRUE(p.requires_grad());
    EXPECT_FALSE(p.grad().defined() && p.grad().abs().sum().item<double>() > 0);
  }

  const std::string dir = test::temp_dir("synth");
  save_synthetic_set(dir, set, teacher->config());
  std::ifstream png(dir + "/grid.png", std::ios::binary);
  char magic[8] = {};
  png.read(magic, 8);
  EXPECT_EQ(std::string(magic + 1, 3), "PNG");
  EXPECT_TRUE(std::filesystem::exists(dir + "/images/000_class_0.png"));
  const SyntheticSet back = load_synthetic_set(dir, teacher->config());
  EXPECT_TRUE(torch::equal(back.images, set.images));
  EXPECT_TRUE(torch::equal(back.targets, set.targets));
  EXPECT_THROW(load_synthetic_set(dir, named_config("deit_tiny_patch16_224")), Error);
  InversionOptions bad;
  bad.iterations = 0;
  EXPECT_THROW(invert_teacher(*teacher, bad), Error);
}

}  // namespace
}  // namespace vitc
