// Resolution of rank, world size and rendezvous address from flags and torchrun's variables.
#include "dist/dist_config.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "util/error.h"

namespace vitc::dist {

void DistConfig::validate() const {
  check(world_size >= 1, "world size (--dist-world-size or WORLD_SIZE) must be at least 1, got ",
        world_size);
  check(rank >= 0 && rank < world_size, "rank (--dist-rank or RANK) must lie in [0, ", world_size,
        ") for world size ", world_size, ", got ", rank);
  check(local_rank >= 0, "local rank (LOCAL_RANK) must be >= 0, got ", local_rank);
  check(master_port >= 1 && master_port <= 65535,
        "master port (--dist-master-port or MASTER_PORT) must lie in 1..65535, got ", master_port);
  check(!master_addr.empty(), "master address (--dist-master-addr or MASTER_ADDR) must not be empty");
  check(timeout_seconds > 0 && std::isfinite(timeout_seconds),
        "--dist-timeout must be a positive number of seconds, got ", timeout_seconds);
}

EnvLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

namespace {

std::optional<int> env_int(const EnvLookup& env, const std::string& name) {
  const std::optional<std::string> text = env(name);
  if (!text) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const long value = std::strtol(text->c_str(), &end, 10);
  check(!text->empty() && end != nullptr && *end == '\0' && errno == 0 && value >= -(1L << 30) &&
            value <= (1L << 30),
        "environment variable ", name, "='", *text, "' is not an integer");
  return static_cast<int>(value);
}

}  // namespace

DistConfig resolve_dist_config(const DistFlagValues& flags, const EnvLookup& env) {
  DistConfig config;
  const auto pick_int = [&](const std::optional<int>& flag, const std::string& var, int& out) {
    if (flag) {
      out = *flag;
    } else if (const auto v = env_int(env, var)) {
      out = *v;
    }
  };
  pick_int(flags.world_size, "WORLD_SIZE", config.world_size);
  pick_int(flags.rank, "RANK", config.rank);
  pick_int(flags.local_rank, "LOCAL_RANK", config.local_rank);
  pick_int(flags.master_port, "MASTER_PORT", config.master_port);
  if (flags.master_addr) {
    config.master_addr = *flags.master_addr;
  } else if (const auto v = env("MASTER_ADDR")) {
    config.master_addr = *v;
  }
  if (flags.local_addr) config.local_addr = *flags.local_addr;
  config.timeout_seconds = flags.timeout_seconds;
  config.validate();
  return config;
}

}  // namespace vitc::dist
