// DC-ViT end to end on a Fashion-MNIST subset: a briefly trained fm_tiny teacher, 20 images per
// class (labels hidden), a small synthetic set, ranking, progressive compression to 70% of the
// MACs. The result is a loadable compressed model directory equal to its masked counterpart and
// far above chance; a second target reuses the ranking.
#include <gtest/gtest.h>

#include "compress/dcvit/pipeline.h"
#include "dcvit_test_util.h"
#include "model/complexity.h"
#include "model/model_dir.h"
#include "train/evaluate.h"
#include "util/error.h"

namespace vitc {
namespace {

TEST(DcvitEndToEnd, CompressesFashionMnistTeacherWithoutLabels) {
  const auto train = test::fm_subset("train", 9600);
  const auto test_data = test::fm_subset("test", 1000);
  VisionTransformer teacher = test::trained_fm_tiny(train);
  const double teacher_top1 = evaluate(*teacher, *test_data, 500).top1;
  ASSERT_GT(teacher_top1, 60.0);

  DcvitInputs in;
  in.teacher = teacher;
  in.teacher_info = {{"dir", "fm_tiny (test)"}};
  FewShotOptions fo;
  fo.per_class = 20;
  in.few_shot = sample_few_shot(load_fashion_mnist("train"), fo);
  ASSERT_EQ(in.few_shot.indices.size(), 200u);
  InversionOptions io;
  io.count = 10;
  io.iterations = 60;
  io.quiet = true;
  in.synthetic = invert_teacher(*teacher, io);

  DcvitSettings settings;
  settings.candidates = {1, 2};
  settings.mimic.epochs = 4;
  settings.mimic.batch_size = 32;
  settings.mimic.lr = 1e-3;
  settings.quiet = true;
  const int64_t teacher_macs = compute_complexity(teacher->config()).macs();
  const std::string root = test::temp_dir("e2e");
  DcvitJob job;
  job.target = static_cast<int64_t>(0.7 * teacher_macs);
  job.out_dir = root + "/model";
  const DcvitRunResult run = run_dcvit(in, {job}, 0, root + "/ranking", false, settings, *test_data, 500);
  ASSERT_EQ(run.jobs.size(), 1u);
  const nlohmann::json& result = run.jobs[0].record["result"];
  EXPECT_NEAR(result["macs"].get<int64_t>(), job.target, 0.01 * job.target);
  EXPECT_LT(result["slice_check_max_abs_diff"].get<double>(), 1e-4);
  EXPECT_GT(result["top1"].get<double>(), 50.0) << "chance is 10%; teacher " << teacher_top1;
  // k = 2 of 2 candidates: step 1 reused the ranking's finetuned best candidate.
  ASSERT_EQ(run.jobs[0].record["steps"].size(), 2u);
  EXPECT_TRUE(run.jobs[0].record["steps"][0].contains("reused_ranking_candidate"));

  LoadedModel loaded = load_model_dir(job.out_dir);
  const Structure s = structure_from_json(loaded.model_json.at("structure"), "model.json");
  EXPECT_EQ(loaded.model->config(), compact_config(teacher->config(), s));
  int compressed = 0;
  for (const BlockKeep& b : s.blocks) compressed += b.attn_skip || b.skip;
  EXPECT_EQ(compressed, run.jobs[0].plan.blocks);
  EXPECT_NEAR(evaluate(*loaded.model, *test_data, 500).top1, result["top1"].get<double>(), 1e-9);

  // Another target reuses the finished ranking: no candidate is finetuned again.
  DcvitJob second;
  second.target = static_cast<int64_t>(0.85 * teacher_macs);
  second.out_dir = root + "/model85";
  const DcvitRunResult again = run_dcvit(in, {second}, 0, root + "/ranking", true, settings, *test_data, 500);
  EXPECT_TRUE(again.ranking_record["reused"].get<bool>());
  EXPECT_EQ(again.ranking.order(), run.ranking.order());
  EXPECT_NEAR(again.jobs[0].record["result"]["macs"].get<int64_t>(), second.target, 0.01 * second.target);
}

}  // namespace
}  // namespace vitc
