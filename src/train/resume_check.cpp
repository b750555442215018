// Resume checks shared by the trainer and the methods' searches.
#include "train/resume_check.h"

#include "util/error.h"
#include "util/json_read.h"

namespace vitc {

void check_same_settings(const nlohmann::json& saved, const nlohmann::json& now,
                         const std::string& where) {
  for (auto it = now.begin(); it != now.end(); ++it) {
    check(saved.contains(it.key()) && saved[it.key()] == it.value(), "cannot resume from '", where,
          "': setting '", it.key(), "' was ", json_brief(saved.value(it.key(), nlohmann::json())),
          " and is now ", json_brief(it.value()), " (use the same settings, or a new --out)");
  }
}

void check_same_world_size(const nlohmann::json& saved, int world, const std::string& where,
                           const std::string& made) {
  const int saved_world = saved.value("world_size", 1);
  check(saved_world == world, "cannot resume from '", where, "': it was ", made, " by ", saved_world,
        " process(es) and this run has ", world, " (resume with the same world size, or a new --out)");
}

}  // namespace vitc
