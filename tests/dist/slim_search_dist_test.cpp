// `vitc slim search` as two cooperating processes: both ranks hold identical weights and masks
// after every epoch, and they match one process with the doubled batch.
#include <cstdio>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "dist/dist_test_util.h"
#include "io/safetensors.h"
#include "util/files.h"

namespace {

using namespace dist_test;

// 4 search steps of fm_tiny on 256 images: one process with batch 2B reads exactly the images of
// the two ranks' batches of B at every step.
std::string search_args(const std::string& teacher, const std::string& out, int batch) {
  return "slim search --teacher " + teacher +
         " --epochs 1 --max-steps-per-epoch 4 --lr 1e-3 --train-subset 256 --eval-subset 64 "
         "--threads 1 --quiet --batch-size " + std::to_string(batch) + " --out " + out;
}

double max_abs_diff(const std::string& a_path, const std::string& b_path) {
  return safetensors_diff(a_path, b_path).max;
}

TEST(SlimSearchDist, RanksAgreeAndMatchOneProcessOfDoubleBatch) {
  const std::string teacher = absent_dir("slim_teacher"), single = absent_dir("slim_single"),
                    pair = absent_dir("slim_pair");
  make_teacher(teacher);
  // Rank 0 alone reports and writes.
  const OneAndPair run = run_one_and_pair(
      [&](const std::string& out, int batch) { return search_args(teacher, out, batch); }, single, pair, "search done");
  ASSERT_TRUE(run.ok);

  // Identical on both ranks: after the epoch every rank compared its weights and masks with rank
  // 0's (broadcast) before taking them; the largest difference is recorded.
  const nlohmann::json info = vitc::read_json(pair + "/search.json");
  ASSERT_EQ(info["history"].size(), 1u);
  EXPECT_EQ(info["history"][0]["dist_max_abs_diff"].get<double>(), 0.0);
  EXPECT_EQ(info["world_size"].get<int>(), 2);
  EXPECT_FALSE(vitc::read_json(single + "/search.json")["history"][0].contains("dist_max_abs_diff"));

  // Equal to one process of batch 32 up to float32 summation order (see train_dist_test for why
  // AdamW may amplify it); 4 steps of lr 1e-3 move masks and weights by ~1e-3 each, a wrong shard
  // or a missing average by as much.
  const double masks = max_abs_diff(single + "/masks.safetensors", pair + "/masks.safetensors");
  const double weights = max_abs_diff(single + "/model.safetensors", pair + "/model.safetensors");
  std::printf("1 vs 2 processes: masks max |diff| %.3g, weights max |diff| %.3g\n", masks, weights);
  EXPECT_LT(masks, 1e-4);
  EXPECT_LT(weights, 1e-4);
  // ... which is small against what the search changed.
  const double moved = max_abs_diff(teacher + "/model.safetensors", single + "/model.safetensors");
  std::printf("weights moved by the search: max %.3g\n", moved);
  EXPECT_GT(moved, 1e-3);
}

}  // namespace
