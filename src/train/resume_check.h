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

}  // namespace vitc
