// A resumed method search (ViT-Slim, UVC) must continue the same search: same settings, same
// teacher.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace vitc {

// `saved` is the search record ({"options": ..., "teacher": {"dir": ...}}), `trajectory` the
// current options' trajectory_json(). Throws vitc::Error naming `where` and what differs.
void check_same_search(const nlohmann::json& saved, const nlohmann::json& trajectory,
                       const nlohmann::json& teacher_info, const std::string& where);

}  // namespace vitc
