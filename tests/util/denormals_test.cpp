// configure_denormals: a product whose exact value is subnormal comes out as 0 when flushing, and
// as the subnormal otherwise.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "util/denormals.h"

namespace vitc {
namespace {

float subnormal_product() {
  const at::Tensor a = torch::full({64}, 1e-30f), b = torch::full({64}, 1e-10f);
  return (a * b).max().item<float>();  // exactly ~1e-40, below float's smallest normal 1.18e-38
}

TEST(Denormals, FlushingTurnsSubnormalResultsIntoZero) {
  EXPECT_EQ(configure_denormals(false), "IEEE subnormals");
  EXPECT_NEAR(subnormal_product(), 1e-40f, 1e-43f);
  const std::string flushed = configure_denormals(true);
  if (flushed != "subnormals flushed to zero") GTEST_SKIP() << "this CPU: " << flushed;
  EXPECT_EQ(subnormal_product(), 0.0f);
  EXPECT_EQ(configure_denormals(false), "IEEE subnormals");
  EXPECT_GT(subnormal_product(), 0.0f);
}

}  // namespace
}  // namespace vitc
