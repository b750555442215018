// Crash, timeout and out-of-memory handling for the corpus runner (run_guard.h). The handlers
// only use async-signal-safe calls and preallocated buffers.
#include "run_guard.h"

#include <execinfo.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "malloc_limit.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace vitc::fuzz {
namespace {

char g_current_path[4096];   // <prefix>crash-current
char g_prefix[4000];
char g_hash[17];
int g_current_fd = -1;
std::atomic<bool> g_running{false};
std::atomic<int64_t> g_input_start_ms{0};
std::atomic<long> g_runs{0};
std::atomic<bool> g_dying{false};
int64_t g_begin_ms = 0;
long g_timeout_s = 1200;
long g_rss_limit_mb = 2048;
pthread_t g_input_thread;

int64_t now_ms() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return int64_t{t.tv_sec} * 1000 + t.tv_nsec / 1000000;
}

void say(const char* s) {
  const ssize_t ignored = write(STDERR_FILENO, s, strlen(s));
  (void)ignored;
}

void say_number(long long v) {
  char buf[24];
  char* p = buf + sizeof(buf);
  *--p = '\0';
  const bool negative = v < 0;
  unsigned long long u = negative ? 0ull - static_cast<unsigned long long>(v) : v;
  do {
    *--p = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u != 0);
  if (negative) *--p = '-';
  say(p);
}

void say_pid() {
  say("==");
  say_number(getpid());
  say("== ");
}

void print_backtrace() {
  void* frames[64];
  const int n = backtrace(frames, 64);
  backtrace_symbols_fd(frames, n, STDERR_FILENO);
}

void print_stats() {
  const int64_t elapsed_ms = std::max<int64_t>(now_ms() - g_begin_ms, 1);
  const long runs = g_runs.load();
  say("stat::number_of_executed_units: ");
  say_number(runs);
  say("\nstat::average_exec_per_sec:     ");
  say_number(runs * 1000 / elapsed_ms);
  say("\n");
}

// Renames crash-current to <prefix><kind>-<hash> (rename is async-signal-safe).
void keep_input(const char* kind) {
  if (!g_running.load()) {
    say("(no input was running)\n");
    return;
  }
  static char path[4200];
  path[0] = '\0';
  strncat(path, g_prefix, sizeof(path) - 1);
  strncat(path, kind, sizeof(path) - strlen(path) - 1);
  strncat(path, "-", sizeof(path) - strlen(path) - 1);
  strncat(path, g_hash, sizeof(path) - strlen(path) - 1);
  if (rename(g_current_path, path) == 0) {
    say("Test unit written to ");
    say(path);
  } else {
    say("Test unit left in ");
    say(g_current_path);
  }
  say("\n");
}

const char* signal_name(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    default: return "SIGTRAP";
  }
}

void on_deadly_signal(int sig) {
  if (g_dying.exchange(true)) _exit(1);
  say_pid();
  say("ERROR: fuzz runner: deadly signal ");
  say_number(sig);
  say(" (");
  say(signal_name(sig));
  say(")\n");
  print_backtrace();
  keep_input("crash");
  print_stats();
  raise(sig);  // SA_RESETHAND | SA_NODEFER: the default action now ends the process
  _exit(128 + sig);
}

void on_timeout_signal(int) {
  if (g_dying.exchange(true)) _exit(1);
  say("ALARM: working on the last input for ");
  say_number((now_ms() - g_input_start_ms.load()) / 1000);
  say(" seconds\n");
  print_backtrace();
  say_pid();
  say("ERROR: fuzz runner: timeout after ");
  say_number(g_timeout_s);
  say(" seconds\n");
  keep_input("timeout");
  print_stats();
  _exit(70);
}

void on_malloc_limit(size_t size) {
  if (g_dying.exchange(true)) _exit(1);
  say_pid();
  say("ERROR: fuzz runner: out-of-memory (malloc(");
  say_number(static_cast<long long>(size));
  say("))\n");
  print_backtrace();
  keep_input("oom");
  print_stats();
  _exit(71);
}

// Every 100 ms: an input running longer than the timeout, or RSS above its limit, ends the run.
void watchdog() {
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (g_running.load() && now_ms() - g_input_start_ms.load() > g_timeout_s * 1000) {
      pthread_kill(g_input_thread, SIGALRM);  // its handler prints the stuck stack
      std::this_thread::sleep_for(std::chrono::seconds(5));
      on_timeout_signal(0);
    }
    const long rss = rss_mb();
    if (g_rss_limit_mb > 0 && rss > g_rss_limit_mb && !g_dying.exchange(true)) {
      say_pid();
      say("ERROR: fuzz runner: out-of-memory (used: ");
      say_number(rss);
      say("Mb; exceeds: ");
      say_number(g_rss_limit_mb);
      say("Mb)\n");
      keep_input("oom");
      print_stats();
      _exit(71);
    }
  }
}

// FNV-1a, 64 bits, as 16 hex digits: the kept input's name.
void set_hash(const std::string& input) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : input) h = (h ^ c) * 1099511628211ull;
  snprintf(g_hash, sizeof(g_hash), "%016llx", static_cast<unsigned long long>(h));
}

}  // namespace

bool start_guard(const GuardOptions& options, std::string& error) {
  snprintf(g_prefix, sizeof(g_prefix), "%s", options.artifact_prefix.c_str());
  snprintf(g_current_path, sizeof(g_current_path), "%scrash-current", g_prefix);
  g_current_fd = open(g_current_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (g_current_fd < 0) {
    error = std::string("cannot create ") + g_current_path + ": " + strerror(errno);
    return false;
  }
  g_timeout_s = options.timeout_s > 0 ? options.timeout_s : 1200;
  g_rss_limit_mb = options.rss_limit_mb;
  g_begin_ms = now_ms();
  void* frame[1];
  backtrace(frame, 1);  // loads the unwinder now: the handlers must not allocate
  struct sigaction sa {};
  sa.sa_handler = on_deadly_signal;
  sa.sa_flags = SA_ONSTACK | SA_RESETHAND | SA_NODEFER;
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP}) sigaction(sig, &sa, nullptr);
  struct sigaction alarm {};
  alarm.sa_handler = on_timeout_signal;
  alarm.sa_flags = SA_ONSTACK;
  sigaction(SIGALRM, &alarm, nullptr);
  const long malloc_mb = options.malloc_limit_mb > 0 ? options.malloc_limit_mb : options.rss_limit_mb;
  set_malloc_limit(static_cast<size_t>(malloc_mb) << 20, on_malloc_limit);
  guard_this_thread();
  std::thread(watchdog).detach();
  return true;
}

void guard_this_thread() {
  static thread_local std::vector<char> alt_stack(1 << 18);
  stack_t ss{};
  ss.ss_sp = alt_stack.data();
  ss.ss_size = alt_stack.size();
  sigaltstack(&ss, nullptr);
  g_input_thread = pthread_self();
}

void run_guarded(const std::string& input) {
  set_hash(input);
  // Rewritten in place through one open descriptor: truncating and closing a file per input
  // makes ext4 flush it to disk every time (auto_da_alloc), 100x slower than the input itself.
  for (size_t done = 0; done < input.size();) {
    const ssize_t n = pwrite(g_current_fd, input.data() + done, input.size() - done, done);
    if (n <= 0) {
      perror("cannot write crash-current");
      std::exit(1);
    }
    done += static_cast<size_t>(n);
  }
  if (ftruncate(g_current_fd, static_cast<off_t>(input.size())) != 0) {
    perror("cannot write crash-current");
    std::exit(1);
  }
  // An exact-size copy, as libFuzzer does, so that ASan sees reads past the end.
  std::unique_ptr<uint8_t[]> copy(new uint8_t[std::max<size_t>(input.size(), 1)]);
  std::memcpy(copy.get(), input.data(), input.size());
  g_input_start_ms = now_ms();
  g_running = true;
  LLVMFuzzerTestOneInput(copy.get(), input.size());
  g_running = false;
  ++g_runs;
}

long executed_runs() { return g_runs.load(); }

double elapsed_seconds() { return (now_ms() - g_begin_ms) / 1000.0; }

long rss_mb() {
  FILE* f = fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  long pages = 0;
  long resident = 0;
  const int n = fscanf(f, "%ld %ld", &pages, &resident);
  fclose(f);
  return n == 2 ? resident * (sysconf(_SC_PAGESIZE) / 1024) / 1024 : 0;
}

void finish_guard() {
  print_stats();
  close(g_current_fd);
  std::remove(g_current_path);
}

}  // namespace vitc::fuzz
