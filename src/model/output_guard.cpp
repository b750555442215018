// Refusals that keep a user's earlier runs and models intact.
#include "model/output_guard.h"

#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/model_dir.h"
#include "util/error.h"
#include "util/files.h"

namespace vitc {

namespace fs = std::filesystem;

namespace {

// The command a run directory's run.json names, or "" when it has none (or an unreadable one).
std::string recorded_command(const std::string& dir) {
  const std::string path = dir + "/" + kRunJsonFile;
  if (!fs::is_regular_file(path)) return "";
  try {
    const nlohmann::json run = read_json(path);
    if (run.is_object() && run.contains("command") && run["command"].is_string())
      return run["command"].get<std::string>();
  } catch (const Error&) {
  }
  return "";
}

}  // namespace

void check_output_dir(const std::string& dir, const std::string& command, bool resume,
                      bool overwrite) {
  std::error_code ec;
  const fs::file_status status = fs::status(dir, ec);
  if (!fs::exists(status)) return;
  check(fs::is_directory(status), "--out '", dir, "' exists and is not a directory");
  std::vector<std::string> names;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    names.push_back(it->path().filename().string());
    if (names.size() == 4) break;
  }
  check(!ec, "cannot list --out '", dir, "': ", ec.message());
  if (names.empty() || overwrite) return;
  const std::string held = names.size() < 4 ? join(names) : join(names) + ", ...";
  if (resume) {
    const std::string other = recorded_command(dir);
    check(other.empty() || other == command, "--out '", dir, "' holds a finished 'vitc ", other,
          "' run (", kRunJsonFile, "); --resume continues only a 'vitc ", command,
          "' run there. Choose another --out, or pass --overwrite to replace it");
    return;
  }
  fail("--out '", dir, "' already holds files (", held, "): it may be another run or model of "
       "yours. Pass --resume to continue the run that is there, --overwrite to replace it, or "
       "choose a new --out");
}

void check_not_model_dir(const std::string& dir, const std::string& flag) {
  check(!file_exists(dir + "/" + kModelJsonFile), flag, " '", dir, "' is a model directory (it has ",
        kModelJsonFile, "): writing there would replace the model's own files; choose another");
}

void check_not_model_file(const std::string& path, const std::string& flag) {
  check(!fs::is_directory(path), flag, " '", path, "' is a directory; name a file");
  const std::string name = fs::path(path).filename().string();
  const fs::path parent = fs::path(path).parent_path().empty() ? fs::path(".")
                                                                 : fs::path(path).parent_path();
  const bool model_dir = file_exists((parent / kModelJsonFile).string());
  check(!(name == kModelJsonFile || name == kWeightsFile) &&
            !(model_dir && name == kRunJsonFile),
        flag, " '", path, "' is one of a model directory's own files: writing there would break "
        "or overwrite the model; name another file");
}

}  // namespace vitc
