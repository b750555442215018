// `vitc dcvit run` end to end as two cooperating processes (model inversion, block ranking,
// progressive feature-mimicking finetuning): the same synthetic set, block ranking and Structure
// as one process with the doubled batch.
#include <cmath>
#include <cstdio>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "dist/dist_test_util.h"
#include "util/files.h"

namespace {

using namespace dist_test;

// 8 images per class (80), 4 synthetic images x 20 iterations without flips, no augmentation
// (the loader seeds it per batch slot, so 1 and 2 processes would augment differently), one
// finetuning epoch per stage, 80% of the teacher's MACs.
std::string dcvit_args(const std::string& teacher, const std::string& out, int batch) {
  return "dcvit run --teacher " + teacher + " --out " + out +
         " --per-class 8 --eval-subset 64 --macs 0.8 --epochs 1 --pad 0 --no-hflip "
         "--synth-count 4 --synth-iterations 20 --synth-no-hflip --latency-repeats 0 --threads 1 "
         "--quiet --batch-size " + std::to_string(batch);
}

TEST(DcvitDist, TwoProcessesGiveTheSyntheticSetRankingAndStructureOfOne) {
  const std::string teacher = absent_dir("dcvit_teacher"), single = absent_dir("dcvit_single"),
                    pair = absent_dir("dcvit_pair");
  make_teacher(teacher);
  const OneAndPair run = run_one_and_pair(
      [&](const std::string& out, int batch) { return dcvit_args(teacher, out, batch); }, single, pair);
  ASSERT_TRUE(run.ok);

  const nlohmann::json r1 = vitc::read_json(single + "/run.json");
  const nlohmann::json r2 = vitc::read_json(pair + "/run.json");
  EXPECT_EQ(r2["distributed"]["world_size"].get<int>(), 2);
  // The synthetic set: the inversion's gradient is split over the ranks' image shards, so its
  // best loss equals one process's up to float summation order.
  const double l1 = r1["synthetic"]["best_loss"].get<double>();
  const double l2 = r2["synthetic"]["best_loss"].get<double>();
  std::printf("synthetic best loss: 1 process %.6g, 2 processes %.6g\n", l1, l2);
  EXPECT_NEAR(l1, l2, 1e-3 * std::max(1.0, std::abs(l1)));
  EXPECT_EQ(r1["ranking"]["order"], r2["ranking"]["order"]);
  EXPECT_EQ(r1["plan"], r2["plan"]);
  EXPECT_EQ(vitc::read_json(single + "/model.json")["structure"],
            vitc::read_json(pair + "/model.json")["structure"]);
  const double t1 = r1["result"]["top1"].get<double>(), t2 = r2["result"]["top1"].get<double>();
  std::printf("top-1 on 64 test images: 1 process %.2f, 2 processes %.2f\n", t1, t2);
  // One image of 64 is 1.56 points: the finetuned weights may differ by float summation order.
  EXPECT_NEAR(t1, t2, 1.6);
}

}  // namespace
