// DC-ViT on ResNets: the front rule in a compact student's numbering, a block whose branch computes
// nothing ranked first by the synthetic-set KL, a ranking reused only for the same inputs, and
// progressive removal to a saved compact model whose frozen blocks are still the teacher's.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "compress/dcvit/resnet_dcvit.h"
#include "model/families/resnet/resnet_model_dir.h"
#include "model/state_dict.h"
#include "util/files.h"
#include "compress/resnet_test_util.h"
#include "test_support.h"

namespace vitc {
namespace {

TEST(ResNetDcvit, FrontRuleCountsInTheStudentsNumbering) {
  const ResNetConfig c = named_resnet_config("fm_resnet");
  const auto drop = [&](std::vector<int> blocks) {
    return drop_resnet_blocks(c, full_resnet_structure(c), blocks);
  };
  EXPECT_EQ(resnet_front_last_block(c, drop({4})), 4);     // layer2.2 is block 4 of the student
  EXPECT_EQ(resnet_front_last_block(c, drop({4, 7})), 6);  // layer3.2, after layer3.1
  EXPECT_EQ(resnet_front_last_block(c, drop({8})), 7);     // the last block: every block
  EXPECT_EQ(resnet_front_last_block(c, full_resnet_structure(c)), 8);
}

// fm_resnet at a quarter width on 16x16 inputs, with a block that computes nothing.
ResNet small_teacher() {
  ResNet model = test::calibrated_small_resnet(16, {4, 8, 16}, 11, test::normal_images(16));
  torch::NoGradGuard no_grad;
  // layer2.2's branch ends in a BatchNorm of weight and bias 0: the block is relu(x) = x.
  model->block(5)->bn2->weight.zero_();
  model->block(5)->bn2->bias.zero_();
  return model;
}

// Random 16x16 images (labels 0), a few-shot set drawn from them and a synthetic metric set.
struct RandomInputs {
  std::shared_ptr<TensorDataset> images;
  FewShotSet few_shot;
  SyntheticSet metric;
};
RandomInputs random_inputs(uint64_t seed, int64_t images, int64_t few_shot, int64_t metric) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  RandomInputs in;
  in.images = std::make_shared<TensorDataset>(at::normal(0.0, 1.0, {images, 1, 16, 16}, gen),
                                              torch::zeros({images}, at::kLong), 10, "random images");
  FewShotOptions fo;
  fo.total = few_shot;
  in.few_shot = sample_few_shot(in.images, fo);
  in.metric.images = at::normal(0.0, 1.0, {metric, 1, 16, 16}, gen);
  return in;
}

TEST(ResNetDcvit, RanksTheBlockThatComputesNothingFirstAndRemovesProgressively) {
  ResNet teacher = small_teacher();
  const ResNetConfig& c = teacher->config();
  const RandomInputs in = random_inputs(13, 48, 32, 12);
  const auto& [images, few_shot, metric] = in;
  FewShotOptions fo;
  fo.total = 32;
  ResNetDcvitSettings settings;
  settings.candidates = {1, 4, 5, 7};
  settings.mimic.epochs = 2;
  settings.mimic.batch_size = 16;
  settings.quiet = true;
  const std::string dir = test_support::absent_dir("resnet_dcvit");
  const ResNetDcvitRanking ranking = rank_resnet_blocks(teacher, few_shot, metric, settings, dir + "/ranking");
  ASSERT_EQ(ranking.scores.size(), 4u);
  EXPECT_EQ(ranking.order().front(), 5);
  EXPECT_NEAR(ranking.scores.front().kl_before, 0.0, 1e-9);
  EXPECT_TRUE(file_exists(dir + "/ranking/ranking.json"));
  EXPECT_FALSE(ranking.reused);

  // One ranking serves every budget: asked to reuse it with the same inputs, it is loaded as it
  // was; from other few-shot images or another teacher it is refused, naming what differs.
  const ResNetDcvitRanking again =
      rank_resnet_blocks(teacher, few_shot, metric, settings, dir + "/ranking", /*reuse=*/true);
  EXPECT_TRUE(again.reused);
  EXPECT_EQ(again.order(), ranking.order());
  EXPECT_EQ(again.scores.front().kl, ranking.scores.front().kl);
  FewShotOptions other_images = fo;
  other_images.seed = fo.seed + 1;
  test_support::expect_error(
      [&] {
        rank_resnet_blocks(teacher, sample_few_shot(images, other_images), metric, settings,
                           dir + "/ranking", true);
      },
      {"cannot reuse the DC-ViT ranking", "few_shot_indices"});
  ResNetDcvitSettings other_teacher = settings;
  other_teacher.teacher_info = {{"weights_fingerprint", "another"}};
  test_support::expect_error(
      [&] { rank_resnet_blocks(teacher, few_shot, metric, other_teacher, dir + "/ranking", true); },
      {"cannot reuse the DC-ViT ranking", "another teacher"});

  const ResNetDcvitResult result =
      compress_resnet_dcvit(teacher, few_shot, ranking, 2, settings, *images, dir, 48);
  EXPECT_EQ(result.compact->config().depth(), c.depth() - 2);
  EXPECT_FALSE(result.structure.blocks[5].kept);
  EXPECT_FALSE(result.structure.blocks[ranking.order()[1]].kept);
  ASSERT_EQ(result.record["steps"].size(), 2u);
  EXPECT_TRUE(file_exists(dir + "/steps/step_2/stage.json"));
  LoadedResNet saved = load_resnet_dir(dir);
  saved.model->eval();
  ResNet compact = result.compact;
  const at::Tensor x = images->get_batch({0, 1, 2}).images;
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(saved.model->forward(x), compact->forward(x)));
  // The head was never trained: the feature loss does not reach it.
  EXPECT_TRUE(torch::equal(compact->fc->weight, teacher->fc->weight));
}

// With --rank-epochs the ranking's candidates are finetuned for other epochs than the stages, so
// step 1 is not the ranking's candidate: it is finetuned for the stages' epochs in steps/step_1.
TEST(ResNetDcvit, StepOneIsTrainedWhenTheRankingHadOtherEpochs) {
  ResNet teacher = small_teacher();
  const RandomInputs in = random_inputs(17, 32, 16, 4);
  const auto& [images, few_shot, metric] = in;
  ResNetDcvitSettings settings;
  settings.candidates = {1, 5};
  settings.mimic.epochs = 2;
  settings.mimic.batch_size = 16;
  settings.rank_epochs = 1;
  settings.quiet = true;
  const std::string dir = test_support::absent_dir("resnet_rank_epochs");
  const ResNetDcvitRanking ranking = rank_resnet_blocks(teacher, few_shot, metric, settings, dir + "/ranking");
  for (const auto& s : ranking.scores) EXPECT_EQ(s.finetune.at("epochs").size(), 1u);
  const ResNetDcvitResult result =
      compress_resnet_dcvit(teacher, few_shot, ranking, 1, settings, *images, dir, 32);
  ASSERT_EQ(result.record["steps"].size(), 1u);
  EXPECT_FALSE(result.record["steps"][0].contains("from"));
  EXPECT_EQ(result.record["steps"][0]["finetune"]["epochs"].size(), 2u);
  EXPECT_TRUE(file_exists(dir + "/steps/step_1/stage.json"));
  EXPECT_FALSE(result.structure.blocks[ranking.order()[0]].kept);
}

}  // namespace
}  // namespace vitc
