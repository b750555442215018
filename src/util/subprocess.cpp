// posix_spawn with file actions for the log; waitpid for the status.
#include "util/subprocess.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "util/error.h"
#include "util/progress.h"

extern char** environ;

namespace vitc {

namespace {

// Copies everything readable from `from` to the file descriptors `to`, until end of file.
void copy_until_eof(int from, const std::vector<int>& to) {
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(from, buffer, sizeof buffer);
    if (n == 0) return;
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // the child's output is lost from here on, its exit status is not
    }
    for (const int fd : to) {
      ssize_t written = 0;
      while (written < n) {
        const ssize_t w = ::write(fd, buffer + written, static_cast<size_t>(n - written));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        written += w;
      }
    }
  }
}

}  // namespace

SubprocessResult run_subprocess(const std::vector<std::string>& argv, const std::string& log_path,
                                bool echo) {
  check(!argv.empty(), "run_subprocess: empty command");
  echo = echo && !log_path.empty();
  int log_fd = -1;
  if (!log_path.empty()) {
    // Opened here first, so that a bad path is our clear error and not the child's silence.
    log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    check(log_fd >= 0, "cannot open log file ", log_path, ": ", std::strerror(errno));
  }
  int pipe_fds[2] = {-1, -1};
  if (echo && ::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    const int err = errno;
    ::close(log_fd);
    fail("cannot create a pipe for ", argv[0], "'s output: ", std::strerror(err));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (echo) {  // the child writes into the pipe; we copy it to the log and to stderr
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  } else if (log_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, log_fd, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, log_fd, STDERR_FILENO);
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  Stopwatch clock;
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (echo) {
    ::close(pipe_fds[1]);  // only the child holds the write end now: EOF when it exits
    if (rc == 0) copy_until_eof(pipe_fds[0], {log_fd, STDERR_FILENO});
    ::close(pipe_fds[0]);
  }
  if (log_fd >= 0) ::close(log_fd);
  check(rc == 0, "cannot start ", argv[0], ": ", std::strerror(rc));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    check(errno == EINTR, "waiting for ", argv[0], ": ", std::strerror(errno));
  }
  SubprocessResult result;
  result.seconds = clock.seconds();
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string self_executable() {
  std::error_code ec;
  const auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  check(!ec, "cannot read /proc/self/exe: ", ec.message());
  return path.string();
}

bool program_in_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return true;
  }
  return false;
}

}  // namespace vitc
