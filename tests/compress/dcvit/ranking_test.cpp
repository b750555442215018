// DC-ViT's block-selection metric on a constructed model whose block 3 is the identity (its
// attention and MLP branches add zero): compressing it changes nothing, so it ranks first.
#include <gtest/gtest.h>

#include "compress/common/few_shot.h"
#include "compress/dcvit/ranking.h"
#include "dcvit_test_util.h"
#include "util/error.h"

namespace vitc {
namespace {

TEST(DcvitRanking, RanksTheRedundantBlockFirst) {
  VisionTransformer teacher = test::random_small_model(6, 3);
  test::make_block_identity(*teacher, 3);
  const ViTConfig& c = teacher->config();
  DcvitInputs in;
  in.teacher = teacher;
  in.teacher_info = {{"dir", "constructed"}};
  FewShotOptions fo;
  fo.total = 32;
  in.few_shot = sample_few_shot(test::random_image_set(c, 64, 1), fo);
  in.synthetic.images = test::random_image_set(c, 20, 2)->get_batch({0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
                                                                     10, 11, 12, 13, 14, 15, 16, 17, 18, 19}).images;
  DcvitSettings settings;
  settings.candidates = {1, 2, 3, 4};
  settings.mimic.epochs = 1;
  settings.mimic.batch_size = 16;
  settings.mimic.weight_decay = 0;
  settings.quiet = true;
  const std::string dir = test::temp_dir("ranking");
  const Ranking r = rank_blocks(in, /*hidden=*/16, settings, dir);
  ASSERT_EQ(r.scores.size(), 4u);
  EXPECT_EQ(r.order().front(), 3);
  EXPECT_NEAR(r.scores.front().kl, 0.0, 1e-9);
  EXPECT_NEAR(r.scores.front().kl_before, 0.0, 1e-9);
  for (size_t i = 1; i < r.scores.size(); ++i) EXPECT_GT(r.scores[i].kl, 1e-6);
  // Written and read back the same.
  const Ranking loaded = load_ranking(dir);
  EXPECT_EQ(loaded.order(), r.order());
  EXPECT_EQ(loaded.hidden, 16);
  EXPECT_THROW(load_ranking(dir + "/nothing"), Error);
}

}  // namespace
}  // namespace vitc
