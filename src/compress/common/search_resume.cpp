// Resume check of the methods' searches: the trainer's settings check plus the teacher.
#include "compress/common/search_resume.h"

#include "train/resume_check.h"
#include "util/error.h"

namespace vitc {

void check_same_search(const nlohmann::json& saved, const nlohmann::json& trajectory,
                       const nlohmann::json& teacher_info, const std::string& where) {
  check_same_settings(saved.value("options", nlohmann::json::object()), trajectory, where);
  const std::string teacher = teacher_info.value("dir", "");
  const std::string saved_teacher =
      saved.value("teacher", nlohmann::json::object()).value("dir", "");
  check(teacher == saved_teacher, "cannot resume from '", where, "': it searched teacher '",
        saved_teacher, "', not '", teacher, "'");
}

}  // namespace vitc
