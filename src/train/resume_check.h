// A resume must continue the same run: every setting that shapes the trajectory, as saved in the
// checkpoint, must equal the current one.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace vitc {

// Throws vitc::Error naming `where`, the first differing key and both values, when a key of
// `now` is missing from `saved` or holds another value there.
void check_same_settings(const nlohmann::json& saved, const nlohmann::json& now,
                         const std::string& where);

// Throws vitc::Error when the checkpoint `where` (its saved record `saved`, whose "world_size" is
// absent for one process) was made by another number of processes than `world`: the data
// order of each rank depends on it. `made` says how, e.g. "trained" or "searched".
void check_same_world_size(const nlohmann::json& saved, int world, const std::string& where,
                           const std::string& made);

}  // namespace vitc
