// Who this process is in a multi-process run: rank, world size and rendezvous address, from
// flags or from the environment variables torchrun sets.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace vitc::dist {

struct DistConfig {
  int rank = 0;
  int world_size = 1;  // 1 = a single process, no communication
  int local_rank = 0;  // rank among the processes on this machine (informational on CPU)
  std::string master_addr = "127.0.0.1";  // host of rank 0, which serves the TCP store
  int master_port = 29500;
  double timeout_seconds = 60;  // rendezvous and every collective; a missing peer fails after this
  // Address this process's Gloo device binds to; "" = loopback when master_addr is a loopback
  // address, else the address this machine's hostname resolves to.
  std::string local_addr;

  bool enabled() const { return world_size > 1; }
  void validate() const;  // throws vitc::Error naming the flag or variable and the bad value
};

// What the command line said; unset fields fall back to the environment.
struct DistFlagValues {
  std::optional<int> rank, world_size, local_rank, master_port;
  std::optional<std::string> master_addr, local_addr;
  double timeout_seconds = 60;
};

// Looks up an environment variable; std::nullopt when unset. Injected so tests need no setenv.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_environment();

// Flags win over RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT; what neither gives keeps
// the DistConfig default. Throws vitc::Error for a variable that is not a number, or an invalid
// combination (rank outside [0, world size), port outside 1..65535, timeout <= 0).
DistConfig resolve_dist_config(const DistFlagValues& flags, const EnvLookup& env);

}  // namespace vitc::dist
