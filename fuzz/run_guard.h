// Runs inputs one at a time under watch, for the corpus runner: each input is kept in
// <prefix>crash-current while it runs; a deadly signal, a timeout or too much memory ends the
// process with a report and keeps the input as <prefix>crash-, timeout- or oom-<hash>.
#pragma once

#include <string>

namespace vitc::fuzz {

struct GuardOptions {
  std::string artifact_prefix = "./";
  long timeout_s = 1200;       // one input
  long rss_limit_mb = 2048;    // the process
  long malloc_limit_mb = 0;    // one allocation; 0: rss_limit_mb
};

// Opens crash-current, installs the signal handlers and the allocation limit, starts the
// watchdog thread. Returns false with a message in `error` if crash-current cannot be made.
bool start_guard(const GuardOptions& options, std::string& error);

// To be called on the thread that runs the inputs: gives it a signal stack (a stack overflow
// still gets its report) and makes it the one a timeout interrupts.
void guard_this_thread();

// Runs LLVMFuzzerTestOneInput on an exact-size copy of `input`.
void run_guarded(const std::string& input);

long executed_runs();
double elapsed_seconds();
long rss_mb();

// Prints libFuzzer's final statistics lines and removes crash-current.
void finish_guard();

}  // namespace vitc::fuzz
