// PRACTISE (ViT port): identity-initialised adaptors leave the network unchanged; on a constructed
// model whose block 3 is the identity, that block is the most recoverable and is dropped first;
// the dropped-block model is a plain Structure whose sliced model equals its masked counterpart;
// a non-positive measured latency saving is measured again.
#include <gtest/gtest.h>

#include "compress/common/few_shot.h"
#include "compress/practise/practise.h"
#include "compress/dcvit/dcvit_test_util.h"
#include "model/model_dir.h"
#include "util/error.h"

namespace vitc {
namespace {

TEST(PractiseAdaptors, StartAsTheIdentity) {
  VisionTransformer model = test::random_small_model(5, 4);
  const at::Tensor images = test::random_image_set(model->config(), 6, 1)->get_batch({0, 1, 2, 3, 4, 5}).images;
  torch::NoGradGuard no_grad;
  const Adaptors a = make_adaptors(*model, {2});
  EXPECT_EQ(a.after.size(), 2u);  // blocks 0, 1
  EXPECT_EQ(a.pre.size(), 2u);    // blocks 3, 4
  // With nothing dropped in the forward, identity adaptors change nothing.
  EXPECT_TRUE(torch::allclose(adapted_features(*model, {}, a, images), model->forward_features(images),
                              1e-5, 1e-6));
}

PractiseSettings quick_settings() {
  PractiseSettings s;
  s.candidates = {1, 2, 3, 4};
  s.recover.epochs = 2;
  s.recover.batch_size = 16;
  s.recover.weight_decay = 0;
  s.mimic.epochs = 1;
  s.mimic.batch_size = 16;
  s.quiet = true;
  return s;
}

TEST(PractiseRanking, DropsTheRedundantBlockFirst) {
  VisionTransformer teacher = test::random_small_model(6, 5);
  test::make_block_identity(*teacher, 3);
  const ViTConfig& c = teacher->config();
  FewShotOptions fo;
  fo.total = 32;
  const FewShotSet few_shot = sample_few_shot(test::random_image_set(c, 64, 2), fo);
  const PractiseSettings settings = quick_settings();
  const std::string dir = test::temp_dir("practise_rank");
  const PractiseRanking r = rank_practise(teacher, {{"dir", "constructed"}}, few_shot, settings, dir, nullptr);
  ASSERT_EQ(r.scores.size(), 4u);
  EXPECT_EQ(r.order().front(), 3);
  EXPECT_NEAR(r.scores.front().recoverability, 0.0, 1e-9);
  EXPECT_EQ(r.latency_source, "macs");
  for (const PractiseScore& s : r.scores) EXPECT_GT(s.latency_reduction, 0);
  for (size_t i = 1; i < r.scores.size(); ++i) {
    EXPECT_GT(r.scores[i].recoverability, 1e-6);
    // Adaptor training recovers at least part of what dropping the block lost.
    EXPECT_LE(r.scores[i].recoverability, r.scores[i].kl_before * 1.0001);
  }
  EXPECT_EQ(load_practise_ranking(dir).order(), r.order());

  // Dropping the best two: a plain Structure, sliced model equal to the masked one.
  const auto eval = test::random_image_set(c, 40, 8, 3);
  const std::string out = test::temp_dir("practise_out");
  const PractiseResult result = compress_practise(teacher, {{"dir", "constructed"}}, few_shot, r, 2,
                                                  settings, *eval, out);
  const std::vector<int> dropped = result.record["dropped"];
  EXPECT_EQ(dropped.size(), 2u);
  EXPECT_NE(std::find(dropped.begin(), dropped.end(), 3), dropped.end());
  EXPECT_LT(result.record["result"]["slice_check_max_abs_diff"].get<double>(), 1e-4);
  LoadedModel loaded = load_model_dir(out);
  const Structure s = structure_from_json(loaded.model_json.at("structure"), "model.json");
  int skipped = 0;
  for (const BlockKeep& b : s.blocks) skipped += b.skip;
  EXPECT_EQ(skipped, 2);
  EXPECT_THROW(compress_practise(teacher, {}, few_shot, r, 5, settings, *eval, out + "_bad"), Error);
}

// A non-positive saving is noise (a model without a block does less work): measured again with
// twice the rounds, up to twice; a saving that stays non-positive is returned for the caller to
// refuse.
TEST(PractiseLatency, NonPositiveSavingIsMeasuredAgainWithMoreRounds) {
  int dropped_calls = 0;
  // The dropped model looks slower for its first 5 timings (warm-up + 4 rounds), then faster.
  const double r = interleaved_reduction_percent([] { return 10.0; },
                                                 [&] { return ++dropped_calls <= 5 ? 12.0 : 8.0; }, 4);
  EXPECT_NEAR(r, 20.0, 1e-12);
  EXPECT_EQ(dropped_calls, 5 + 9);  // the second attempt: warm-up + 8 rounds
  int calls = 0;
  EXPECT_LT(interleaved_reduction_percent([] { return 10.0; }, [&] { return ++calls, 11.0; }, 2), 0);
  EXPECT_EQ(calls, 3 + 5 + 9);  // 2, 4 and 8 rounds, each after a warm-up
}

}  // namespace
}  // namespace vitc
