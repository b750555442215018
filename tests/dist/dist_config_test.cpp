// Rank, world size and rendezvous address from flags and torchrun's environment variables.
#include "dist/dist_config.h"

#include <map>

#include <gtest/gtest.h>

#include "util/error.h"

namespace vitc::dist {
namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(DistConfig, DefaultsToOneProcessWithoutFlagsOrEnvironment) {
  const DistConfig c = resolve_dist_config({}, env_of({}));
  EXPECT_EQ(c.world_size, 1);
  EXPECT_EQ(c.rank, 0);
  EXPECT_FALSE(c.enabled());
  EXPECT_EQ(c.master_addr, "127.0.0.1");
  EXPECT_EQ(c.master_port, 29500);
}

TEST(DistConfig, ReadsTorchrunVariables) {
  const DistConfig c = resolve_dist_config(
      {}, env_of({{"RANK", "3"}, {"LOCAL_RANK", "1"}, {"WORLD_SIZE", "4"}, {"MASTER_ADDR", "10.0.0.7"},
                  {"MASTER_PORT", "1234"}}));
  EXPECT_EQ(c.rank, 3);
  EXPECT_EQ(c.local_rank, 1);
  EXPECT_EQ(c.world_size, 4);
  EXPECT_TRUE(c.enabled());
  EXPECT_EQ(c.master_addr, "10.0.0.7");
  EXPECT_EQ(c.master_port, 1234);
}

TEST(DistConfig, FlagsWinOverEnvironment) {
  DistFlagValues flags;
  flags.rank = 1;
  flags.world_size = 2;
  flags.master_addr = "127.0.0.1";
  flags.master_port = 4321;
  flags.timeout_seconds = 5;
  const DistConfig c = resolve_dist_config(
      flags, env_of({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"MASTER_ADDR", "10.0.0.7"}, {"MASTER_PORT", "1"}}));
  EXPECT_EQ(c.rank, 1);
  EXPECT_EQ(c.world_size, 2);
  EXPECT_EQ(c.master_addr, "127.0.0.1");
  EXPECT_EQ(c.master_port, 4321);
  EXPECT_EQ(c.timeout_seconds, 5);
}

void expect_error(const DistFlagValues& flags, std::map<std::string, std::string> env,
                  const std::string& fragment) {
  try {
    resolve_dist_config(flags, env_of(env));
    ADD_FAILURE() << "expected an error mentioning " << fragment;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(DistConfig, RejectsBadValuesNamingTheirSource) {
  expect_error({}, {{"WORLD_SIZE", "two"}}, "WORLD_SIZE='two'");
  expect_error({}, {{"RANK", "1x"}, {"WORLD_SIZE", "2"}}, "RANK='1x'");
  expect_error({}, {{"RANK", "2"}, {"WORLD_SIZE", "2"}}, "must lie in [0, 2)");
  expect_error({}, {{"WORLD_SIZE", "0"}}, "at least 1");
  expect_error({}, {{"MASTER_PORT", "70000"}}, "1..65535");
  DistFlagValues flags;
  flags.timeout_seconds = 0;
  expect_error(flags, {}, "--dist-timeout");
}

}  // namespace
}  // namespace vitc::dist
