// What a command may write: never over another run's directory, nor over a model directory's own
// files. Checked before any data is loaded, so a refused command costs nothing.
#pragma once

#include <string>

namespace vitc {

inline constexpr const char* kRunJsonFile = "run.json";

// An --out directory may be missing or empty. One that holds files is refused, naming them and
// the way out, unless `overwrite` (--overwrite) is set, or `resume` (--resume) continues a run of
// the same `command` (its run.json, when it has one, names that command; an interrupted run has
// none yet and the command's own resume checks compare its settings). A path that exists and is
// not a directory is refused.
void check_output_dir(const std::string& dir, const std::string& command, bool resume,
                      bool overwrite);

// A directory a command writes its own files into (predict's --out, experiment's --out) must not
// be a model directory: its run.json and files would be replaced.
void check_not_model_dir(const std::string& dir, const std::string& flag);

// A file a command is asked to write (`flag`, e.g. "--json") must not be one of a model
// directory's own files (model.json, model.safetensors, run.json) nor a directory.
void check_not_model_file(const std::string& path, const std::string& flag);

}  // namespace vitc
