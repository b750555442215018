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

// --rank-epochs: the candidates are finetuned for their own epochs, which key the ranking, so one
// ranking serves runs of any --epochs; another ranking budget is refused, not silently reused.
TEST(DcvitRanking, RankEpochsSetTheCandidatesBudgetIndependentlyOfTheStages) {
  VisionTransformer teacher = test::random_small_model(4, 5);
  const ViTConfig& c = teacher->config();
  DcvitInputs in;
  in.teacher = teacher;
  in.teacher_info = {{"dir", "constructed"}};
  FewShotOptions fo;
  fo.total = 16;
  in.few_shot = sample_few_shot(test::random_image_set(c, 32, 1), fo);
  in.synthetic.images = test::random_image_set(c, 4, 2)->get_batch({0, 1, 2, 3}).images;
  DcvitSettings settings;
  settings.candidates = {1, 2};
  settings.mimic.epochs = 3;
  settings.mimic.batch_size = 16;
  settings.rank_epochs = 1;
  settings.quiet = true;
  settings.resume = true;
  const std::string dir = test::temp_dir("rank_epochs");
  const Ranking r = rank_blocks(in, /*hidden=*/16, settings, dir);
  ASSERT_EQ(r.scores.size(), 2u);
  for (const CandidateScore& s : r.scores) EXPECT_EQ(s.finetune.at("epochs").size(), 1u);
  EXPECT_EQ(r.key.at("mimic").at("epochs"), 1);
  EXPECT_EQ(settings.to_json().at("rank_epochs"), 1);

  DcvitSettings longer = settings;  // stages of 20 epochs, the same ranking
  longer.mimic.epochs = 20;
  EXPECT_EQ(load_ranking(dir).key, rank_blocks(in, 16, longer, dir).key);

  DcvitSettings other = settings;  // a ranking of 2 epochs per candidate is another ranking
  other.rank_epochs = 2;
  EXPECT_THROW(rank_blocks(in, 16, other, dir), Error);
  other.rank_epochs = -1;  // -1: the stages' epochs (3)
  EXPECT_EQ(other.ranking_mimic().epochs, 3);
  EXPECT_THROW(rank_blocks(in, 16, other, dir), Error);
}

}  // namespace
}  // namespace vitc
