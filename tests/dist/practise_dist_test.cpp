// `vitc practise run` end to end as two cooperating processes (adaptor training, ranking,
// feature-mimicking finetuning): the same Structure as one process with the doubled batch.
#include <cstdio>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "dist/dist_test_util.h"
#include "util/files.h"

namespace {

using namespace dist_test;

// 8 images per class (80), blocks scored by the MACs they save (timings would differ between
// runs), one block dropped, one finetuning epoch.
std::string practise_args(const std::string& teacher, const std::string& out, int batch) {
  const std::string b = std::to_string(batch);
  return "practise run --teacher " + teacher + " --out " + out +
         " --per-class 8 --eval-subset 64 --drop 1 --epochs 1 --recover-epochs 1 "
         "--pad 0 --no-hflip --latency-proxy-macs --latency-repeats 0 --threads 1 --quiet --batch-size " + b +
         " --recover-batch-size " + b;
}

TEST(PractiseDist, TwoProcessesGiveTheStructureOfOne) {
  const std::string teacher = absent_dir("practise_teacher"), single = absent_dir("practise_single"),
                    pair = absent_dir("practise_pair");
  make_teacher(teacher);
  // Rank 0 alone reports and writes.
  const OneAndPair run = run_one_and_pair(
      [&](const std::string& out, int batch) { return practise_args(teacher, out, batch); }, single, pair, "dropped");
  ASSERT_TRUE(run.ok);

  const nlohmann::json r1 = vitc::read_json(single + "/run.json");
  const nlohmann::json r2 = vitc::read_json(pair + "/run.json");
  EXPECT_EQ(r2["distributed"]["world_size"].get<int>(), 2);
  EXPECT_EQ(r1["ranking"]["order"], r2["ranking"]["order"]);
  EXPECT_EQ(vitc::read_json(single + "/model.json")["structure"],
            vitc::read_json(pair + "/model.json")["structure"]);
  // Each candidate's adaptors were identical on both ranks after training, and recoverability
  // matches one process up to float summation order.
  ASSERT_EQ(r1["ranking"]["scores"].size(), r2["ranking"]["scores"].size());
  for (size_t i = 0; i < r2["ranking"]["scores"].size(); ++i) {
    const nlohmann::json& s1 = r1["ranking"]["scores"][i];
    const nlohmann::json& s2 = r2["ranking"]["scores"][i];
    EXPECT_EQ(s2["recover"]["dist_max_abs_diff"].get<double>(), 0.0);
    EXPECT_EQ(s1["recover"]["steps"], s2["recover"]["steps"]);
    const double k1 = s1["recoverability"].get<double>(), k2 = s2["recoverability"].get<double>();
    std::printf("block %d recoverability: 1 process %.6g, 2 processes %.6g\n",
                s1["block"].get<int>(), k1, k2);
    EXPECT_NEAR(k1, k2, 1e-4 * std::max(1.0, std::abs(k1)));
  }
  // Finetuned weights agree too: the final top-1 on the same 64 test images.
  EXPECT_NEAR(r1["result"]["top1"].get<double>(), r2["result"]["top1"].get<double>(), 1e-9);
}

}  // namespace
