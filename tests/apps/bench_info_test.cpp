// `vitc bench` and `vitc info` end to end: a timed run with its JSON, the CUDA error on a CPU
// build, and info's source-vs-kept table for a compressed model directory.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/cuda.h>

#include "test_support.h"
#include "model/slice.h"
#include "run_vitc.h"
#include "util/files.h"

namespace vitc {
namespace {

using vitc::test_support::Outcome;
using vitc::test_support::run_vitc;

using vitc::test_support::absent_dir;

TEST(Bench, TimesEachBatchSizeAndWritesJson) {
  const std::string json = absent_dir("bench.json");
  const Outcome o = run_vitc("bench --model fm_tiny --batch-sizes 1,3 --warmup 1 --repeats 3 --json " + json);
  ASSERT_EQ(o.exit_code, 0) << o.output;
  EXPECT_NE(o.output.find("median ms"), std::string::npos) << o.output;
  const nlohmann::json j = read_json(json);
  ASSERT_EQ(j["results"].size(), 2u);
  EXPECT_EQ(j["results"][1]["batch"], 3);
  EXPECT_EQ(j["results"][1]["times_ms"].size(), 3u);
  EXPECT_GT(j["results"][1]["median_ms"].get<double>(), 0.0);
  EXPECT_LE(j["results"][1]["p10_ms"].get<double>(), j["results"][1]["p90_ms"].get<double>());
  EXPECT_GT(j["model"]["macs"].get<int64_t>(), 0);
}

// --baseline: the two alternate in one process; the ratio is the model's median over the
// baseline's, both in the JSON. A model against itself (same weights) is about 1.
TEST(Bench, BaselineIsTimedAlternatelyAndGivesTheRatio) {
  const std::string json = absent_dir("bench_baseline.json");
  const Outcome o = run_vitc("bench --model fm_tiny --baseline fm_tiny --batch-sizes 2 --warmup 1 "
                             "--repeats 5 --json " + json);
  ASSERT_EQ(o.exit_code, 0) << o.output;
  EXPECT_NE(o.output.find("baseline ms"), std::string::npos) << o.output;
  const nlohmann::json r = read_json(json)["results"][0];
  ASSERT_TRUE(r.contains("baseline")) << r.dump();
  EXPECT_EQ(r["baseline"]["times_ms"].size(), 5u);
  const double ratio = r["ratio_to_baseline"].get<double>();
  EXPECT_DOUBLE_EQ(ratio, r["median_ms"].get<double>() / r["baseline"]["median_ms"].get<double>());
  EXPECT_GT(ratio, 0.0);
}

TEST(Bench, ABaselineOfAnotherInputShapeIsRefused) {
  const Outcome o = run_vitc("bench --model fm_tiny --baseline deit_tiny_patch16_224 --batch-sizes 1");
  EXPECT_NE(o.exit_code, 0);
  EXPECT_NE(o.output.find("--baseline deit_tiny_patch16_224 takes 3 x 224 x 224 images but --model "
                          "fm_tiny takes 1 x 28 x 28"),
            std::string::npos)
      << o.output;
}

// VITC_HEAD_ATTENTION (model/head_attention.h) takes auto or sgemm; anything else is refused.
TEST(Bench, HeadAttentionKernelVariable) {
  ::setenv("VITC_HEAD_ATTENTION", "sgemm", 1);
  const Outcome sgemm = run_vitc("bench --model fm_tiny --batch-sizes 2 --warmup 0 --repeats 1");
  ::setenv("VITC_HEAD_ATTENTION", "fast", 1);
  const Outcome bad = run_vitc("bench --model fm_tiny --batch-sizes 2 --warmup 0 --repeats 1");
  ::unsetenv("VITC_HEAD_ATTENTION");
  EXPECT_EQ(sgemm.exit_code, 0) << sgemm.output;
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("VITC_HEAD_ATTENTION must be auto or sgemm, got 'fast'"),
            std::string::npos)
      << bad.output;
}

TEST(Bench, CudaWithoutCudaIsAClearError) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "CUDA is available here";
  const Outcome o = run_vitc("bench --model fm_tiny --device cuda");
  EXPECT_NE(o.exit_code, 0);
  EXPECT_NE(o.output.find("CUDA is not available"), std::string::npos) << o.output;
}

TEST(Info, CompressedModelShowsSourceAndKept) {
  const ViTConfig source_config = named_config("fm_tiny");
  VisionTransformer source = make_model(source_config, 0);
  Structure s = dense_structure(source_config);
  s.blocks[0].heads = {{2, {0, 1, 2, 3, 4, 5, 6, 7}, {0, 1, 2, 3}}, {0, {9}, {1, 2}}};
  s.blocks[0].mlp.resize(64);
  s.blocks[1] = BlockKeep{true, false, {}, {}, {}};
  s.blocks[2].attn_skip = true;
  s.blocks[2].heads.clear();
  const std::string dir = absent_dir("compressed");
  VisionTransformer compact = slice_model(*source, s);
  save_compressed_model_dir(dir, *compact, source_config, s);

  const Outcome o = run_vitc("info --model " + dir);
  ASSERT_EQ(o.exit_code, 0) << o.output;
  for (const char* part : {"compressed from fm_tiny", "h2 8/4, h0 1/2", "attention skipped",
                           "skipped", "all 4 heads", "64/128", "total"}) {
    EXPECT_NE(o.output.find(part), std::string::npos) << part << "\n" << o.output;
  }
  const Outcome j = run_vitc("info --json --model " + dir);
  ASSERT_EQ(j.exit_code, 0) << j.output;
  const nlohmann::json info = nlohmann::json::parse(j.output);
  EXPECT_EQ(info["source"]["name"], "fm_tiny");
  EXPECT_LT(info["macs"].get<int64_t>(), info["source"]["macs"].get<int64_t>());
  EXPECT_EQ(info["structure"]["blocks"][0]["heads"][1]["source"], 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vitc
