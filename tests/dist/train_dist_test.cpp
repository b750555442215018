// `vitc train` as two cooperating processes (Gloo over loopback): same weights as one process with
// the doubled batch, and a missing peer is an error within the timeout, not a hang.
#include <cstdio>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "dist/dist_test_util.h"
#include "io/safetensors.h"

namespace {

using dist_test::finish;
using dist_test::free_port;
using dist_test::Outcome;
using dist_test::Running;
using dist_test::start_vitc;
using dist_test::absent_dir;

// fm_tiny on 256 training images, 4 steps, no augmentation: the data of step t for one process
// with batch 2B is exactly the union of the two ranks' batches of B.
std::string train_args(const std::string& out, int batch) {
  return "train --model fm_tiny --init-seed 3 --epochs 1 --max-steps-per-epoch 4 --warmup-epochs 0 "
         "--lr 1e-3 --train-subset 256 --eval-subset 64 --threads 1 --quiet --batch-size " +
         std::to_string(batch) + " --out " + out;
}

TEST(TrainDist, TwoProcessesOfBatchBMatchOneProcessOfBatch2B) {
  const std::string single = absent_dir("single"), pair = absent_dir("pair");
  const Outcome one = finish(start_vitc(train_args(single, 32)));
  ASSERT_EQ(one.exit_code, 0) << one.output;

  const std::string dist = " --dist-world-size 2 --dist-master-addr 127.0.0.1 --dist-timeout 60 "
                           "--dist-master-port " + std::to_string(free_port());
  Running r0 = start_vitc(train_args(pair, 16) + dist + " --dist-rank 0");
  Running r1 = start_vitc(train_args(pair, 16) + dist + " --dist-rank 1");
  const Outcome o0 = finish(r0), o1 = finish(r1);
  ASSERT_EQ(o0.exit_code, 0) << o0.output;
  ASSERT_EQ(o1.exit_code, 0) << o1.output;
  EXPECT_NE(o0.output.find("rank 0 of 2 connected"), std::string::npos) << o0.output;
  EXPECT_NE(o1.output.find("rank 1 of 2 connected"), std::string::npos) << o1.output;
  // Only rank 0 reports: the final line and run.json come from it alone.
  EXPECT_NE(o0.output.find("test top1"), std::string::npos) << o0.output;
  EXPECT_EQ(o1.output.find("test top1"), std::string::npos) << o1.output;
  EXPECT_TRUE(std::filesystem::exists(pair + "/run.json"));

  // Tolerance: the runs differ only in float32 summation order (a mean over 32 images vs. the
  // mean of two means over 16, summed by Gloo). AdamW's normalised update can amplify that for
  // an element whose gradient is near zero, so single elements may move by a few percent of one
  // step (lr 1e-3): measured max 2.7e-5, mean 2.4e-9 over 139018 weights. A wrong shard, a
  // missing average or unequal initial weights moves most weights by ~1e-4..1e-3.
  const dist_test::FileDiff d =
      dist_test::safetensors_diff(single + "/model.safetensors", pair + "/model.safetensors");
  std::printf("|w_1proc - w_2proc|: max %.3g, mean %.3g over %lld weights\n", d.max, d.mean,
              static_cast<long long>(d.elements));
  EXPECT_LT(d.max, 1e-4);
  EXPECT_LT(d.mean, 1e-7);
}

TEST(TrainDist, MissingPeerFailsWithinTheTimeout) {
  const std::string out = absent_dir("alone");
  const std::string dist = " --dist-world-size 2 --dist-rank 0 --dist-timeout 3 --dist-master-port " +
                           std::to_string(free_port());
  const Outcome o = finish(start_vitc(train_args(out, 16) + dist));
  EXPECT_EQ(o.exit_code, 1) << o.output;
  EXPECT_NE(o.output.find("failed at rank 0 of 2"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("did every rank start"), std::string::npos) << o.output;
  EXPECT_FALSE(std::filesystem::exists(out + "/model.safetensors"));
}

TEST(TrainDist, RankWithoutMasterFailsWithinTheTimeout) {
  const std::string out = absent_dir("no_master");
  const std::string dist = " --dist-world-size 2 --dist-rank 1 --dist-timeout 3 --dist-master-port " +
                           std::to_string(free_port());
  const Outcome o = finish(start_vitc(train_args(out, 16) + dist));
  EXPECT_EQ(o.exit_code, 1) << o.output;
  EXPECT_NE(o.output.find("rank 1 of 2"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("is rank 0 running"), std::string::npos) << o.output;
}

}  // namespace
