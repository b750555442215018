// Running another program (a vitc subcommand, gnuplot) with its output appended to a log file.
#pragma once

#include <string>
#include <vector>

namespace vitc {

struct SubprocessResult {
  int exit_code = -1;  // the program's exit status; 128 + N if killed by signal N
  double seconds = 0;  // wall time
};

// Starts argv[0] (searched in PATH when it has no '/') with argv, stdout and stderr appended to
// `log_path` (created if missing; "" = inherit ours), and waits for it. With `echo` and a log,
// the output is also copied to our stderr as it comes (a long run's progress lines and ETA).
// Throws vitc::Error if the program cannot be started (naming it) or the log cannot be opened
// (naming the file).
SubprocessResult run_subprocess(const std::vector<std::string>& argv, const std::string& log_path,
                                bool echo = false);

// The absolute path of the running executable (/proc/self/exe).
std::string self_executable();

// Whether `program` (no '/') is found in PATH and is executable.
bool program_in_path(const std::string& program);

}  // namespace vitc
