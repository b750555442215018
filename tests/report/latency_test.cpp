// Latency summaries on hand-made timings (exact percentiles), a real timed run of a tiny model,
// and device parsing.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/cuda.h>
#include <torch/torch.h>

#include "report/latency.h"
#include "util/error.h"

namespace vitc {
namespace {

TEST(Latency, SummaryOfKnownTimings) {
  // Sorted: 10 20 30 40 50 60 70 80 90 100 110; p10 at position 1, median at 5, p90 at 9.
  const LatencyResult r = summarize_latency({110, 10, 50, 30, 20, 40, 60, 70, 90, 80, 100}, 64, 2);
  EXPECT_DOUBLE_EQ(r.median_ms, 60);
  EXPECT_DOUBLE_EQ(r.p10_ms, 20);
  EXPECT_DOUBLE_EQ(r.p90_ms, 100);
  EXPECT_DOUBLE_EQ(r.images_per_s, 64 * 1000.0 / 60);
  EXPECT_EQ(r.times_ms.front(), 110);  // run order is kept
  // Interpolated: 4 values, median between the 2nd and 3rd.
  const LatencyResult even = summarize_latency({4, 1, 3, 2}, 1, 0);
  EXPECT_DOUBLE_EQ(even.median_ms, 2.5);
  EXPECT_DOUBLE_EQ(even.p10_ms, 1.3);
  EXPECT_DOUBLE_EQ(even.p90_ms, 3.7);
  EXPECT_THROW(summarize_latency({}, 1, 0), Error);
}

TEST(Latency, MeasuresATinyModel) {
  VisionTransformer model = make_model(named_config("fm_tiny"), 0);
  model->train();
  const LatencyResult r = measure_latency(*model, 4, 1, 5, parse_device("cpu"));
  ASSERT_EQ(r.times_ms.size(), 5u);
  EXPECT_GT(r.p10_ms, 0);
  EXPECT_LE(r.p10_ms, r.median_ms);
  EXPECT_LE(r.median_ms, r.p90_ms);
  EXPECT_NEAR(r.images_per_s, 4000.0 / r.median_ms, 1e-9);
  EXPECT_FALSE(model->is_training());  // timed in eval mode
  const nlohmann::json j = latency_to_json(r);
  EXPECT_EQ(j["repeats"], 5);
  EXPECT_EQ(j["batch"], 4);
}

TEST(Latency, DeviceNames) {
  EXPECT_TRUE(parse_device("cpu").is_cpu());
  EXPECT_THROW(parse_device("tpu"), Error);
  if (!torch::cuda::is_available()) {
    try {
      parse_device("cuda");
      FAIL() << "expected vitc::Error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("CUDA is not available"), std::string::npos) << e.what();
    }
  } else {
    EXPECT_TRUE(parse_device("cuda").is_cuda());
  }
}

}  // namespace
}  // namespace vitc
