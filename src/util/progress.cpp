// Progress line rendering: in place on a terminal, periodic lines elsewhere.
#include "util/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <sstream>

namespace vitc {

std::string format_duration(double seconds) {
  char buf[64];
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  if (seconds < 60) {
    std::snprintf(buf, sizeof(buf), "%.1fs", seconds);
  } else if (seconds < 3600) {
    const int s = static_cast<int>(seconds);
    std::snprintf(buf, sizeof(buf), "%dm%02ds", s / 60, s % 60);
  } else {
    const int m = static_cast<int>(seconds / 60);
    std::snprintf(buf, sizeof(buf), "%dh%02dm", m / 60, m % 60);
  }
  return buf;
}

Progress::Progress(std::string label, int64_t total_steps, bool quiet, double log_every_s)
    : label_(std::move(label)),
      total_(total_steps),
      quiet_(quiet),
      tty_(::isatty(STDERR_FILENO) == 1),
      log_every_s_(log_every_s),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

double Progress::elapsed_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

double Progress::items_per_s() const {
  const double t = elapsed_s();
  return t > 0 ? items_ / t : 0.0;
}

std::string Progress::render(int64_t step, const Fields& fields, bool final) const {
  std::ostringstream out;
  out << label_ << " " << step << "/" << total_;
  char buf[64];
  for (const auto& [name, value] : fields) {
    const double mag = std::fabs(value);
    if (mag != 0 && (mag < 1e-3 || mag >= 1e5)) {
      std::snprintf(buf, sizeof(buf), "%.3e", value);
    } else {
      std::snprintf(buf, sizeof(buf), "%.4f", value);
    }
    out << "  " << name << " " << buf;
  }
  std::snprintf(buf, sizeof(buf), "%.0f", items_per_s());
  out << "  img/s " << buf;
  const double t = elapsed_s();
  if (final) {
    out << "  time " << format_duration(t);
  } else if (step > 0) {
    out << "  eta " << format_duration(t / step * (total_ - step));
  }
  return out.str();
}

void Progress::update(int64_t step, int64_t items, const Fields& fields) {
  items_ += items;
  if (quiet_) return;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_print_).count();
  if (tty_) {
    if (since < 0.1 && step != total_) return;
    std::fprintf(stderr, "\r\033[K%s", render(step, fields, false).c_str());
  } else {
    if (since < log_every_s_) return;
    std::fprintf(stderr, "%s\n", render(step, fields, false).c_str());
  }
  std::fflush(stderr);
  last_print_ = now;
}

void Progress::finish(const Fields& fields) {
  if (quiet_) return;
  if (tty_) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "%s\n", render(total_, fields, true).c_str());
  std::fflush(stderr);
}

}  // namespace vitc
