// A one-line live progress display for long loops: step, rate, ETA and named values.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace vitc {

// Usage:
//   Progress progress("train epoch 3/10", steps_in_epoch);
//   for (...) { ...; progress.update(step + 1, images_in_batch, {{"loss", loss}, {"lr", lr}}); }
//   progress.finish({{"loss", mean_loss}});
// On a terminal the line is redrawn in place (at most 10 times a second); otherwise (logs, CI) a
// line is printed every `log_every_s` seconds, so long runs stay visible without flooding.
// Everything goes to stderr; rank != 0 processes can pass quiet=true.
class Progress {
 public:
  using Fields = std::vector<std::pair<std::string, double>>;

  Progress(std::string label, int64_t total_steps, bool quiet = false, double log_every_s = 10.0);
  // `step` is 1-based; `items` is how many images this step processed (for images/s).
  void update(int64_t step, int64_t items, const Fields& fields);
  // Prints the final line with the elapsed time and overall rate.
  void finish(const Fields& fields);

  double elapsed_s() const;
  double items_per_s() const;

 private:
  std::string render(int64_t step, const Fields& fields, bool final) const;

  std::string label_;
  int64_t total_;
  bool quiet_;
  bool tty_;
  double log_every_s_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_print_;
  int64_t items_ = 0;
};

// "1h02m", "3m05s", "12.3s".
std::string format_duration(double seconds);

// Wall-clock stopwatch.
class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  void reset() { start_ = std::chrono::steady_clock::now(); }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace vitc
