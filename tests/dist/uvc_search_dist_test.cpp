// `vitc uvc run` (search step + Structure) as two cooperating processes: identical weights, dual
// variables and gates on both ranks, equal to one process with the doubled batch.
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

// One search epoch of 4 steps (1 warmup step, then 3 steps with the primal-dual updates of
// pruning amounts, duals and, with --gating-interval 1, the gates), the Structure at 60% of the MACs, no finetuning. No
// augmentation (UVC's default): the loader seeds it per batch slot, and a slot of 32 images is two slots of 16,
// so with augmentation one process and two would see differently augmented images.
std::string uvc_args(const std::string& teacher, const std::string& out, int batch) {
  return "uvc run --teacher " + teacher +
         " --macs 0.6 --train-subset 256 --eval-subset 64 --search-epochs 1 "
         "--search-warmup-epochs 0.25 --search-max-steps-per-epoch 4 --finetune-epochs 0 "
         "--gating-interval 1 --latency-repeats 0 --threads 1 --quiet --search-batch-size " +
         std::to_string(batch) + " --out " + out;
}

TEST(UvcSearchDist, RanksAgreeAndMatchOneProcessOfDoubleBatch) {
  const std::string teacher = absent_dir("uvc_teacher"), single = absent_dir("uvc_single"),
                    pair = absent_dir("uvc_pair");
  make_teacher(teacher);
  // Rank 0 alone reports and writes.
  const OneAndPair run = run_one_and_pair(
      [&](const std::string& out, int batch) { return uvc_args(teacher, out, batch); }, single, pair, "top1");
  ASSERT_TRUE(run.ok);

  // Identical on both ranks: weights, buffers and every UVC variable (s, r, gates, y, p, z, the
  // gate optimiser's buffers) compared with rank 0's after the epoch, bit for bit.
  const nlohmann::json info = vitc::read_json(pair + "/search/search.json");
  ASSERT_EQ(info["history"].size(), 1u);
  EXPECT_EQ(info["history"][0]["dist_max_abs_diff"].get<double>(), 0.0);
  EXPECT_EQ(info["world_size"].get<int>(), 2);

  // Equal to one process of batch 32, variable by variable, up to float summation order.
  const auto a = vitc::read_safetensors(single + "/search/uvc_state.safetensors").tensors;
  const auto b = vitc::read_safetensors(pair + "/search/uvc_state.safetensors").tensors;
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, ta] : a) {
    ASSERT_TRUE(b.count(name)) << name;
    const double diff = (ta - b.at(name)).abs().max().item<double>();
    std::printf("uvc state %-16s 1 vs 2 processes: max |diff| %.3g (max |value| %.3g)\n",
                name.c_str(), diff, ta.abs().max().item<double>());
    // The gate step follows skip costs, differences of float32 losses (one batch of 32 against
    // the mean of two of 16): equal to about 1e-4 of their size, the gates' update likewise.
    const bool from_skip_costs = name == "gates" || name == "gate_momentum";
    EXPECT_LT(diff, from_skip_costs ? 1e-4 : 1e-6) << name;
  }
  const auto wa = vitc::read_safetensors(single + "/search/model.safetensors").tensors;
  const auto wb = vitc::read_safetensors(pair + "/search/model.safetensors").tensors;
  double weights = 0;
  for (const auto& [name, ta] : wa) weights = std::max(weights, (ta - wb.at(name)).abs().max().item<double>());
  std::printf("uvc weights 1 vs 2 processes: max |diff| %.3g\n", weights);
  EXPECT_LT(weights, 1e-4);
  // The duals and the gates moved off their start (1e-3; -1, +1): the primal-dual and gate steps ran.
  EXPECT_NE(a.at("z").item<double>(), 1e-3);
  EXPECT_GT(a.at("gate_momentum").abs().max().item<double>(), 0.0);

  // The same final Structure (both ranks checked theirs against rank 0's before slicing).
  const nlohmann::json s1 = vitc::read_json(single + "/model.json")["structure"];
  const nlohmann::json s2 = vitc::read_json(pair + "/model.json")["structure"];
  EXPECT_EQ(s1, s2);
  EXPECT_EQ(vitc::read_json(pair + "/run.json")["distributed"]["world_size"].get<int>(), 2);
}

}  // namespace
