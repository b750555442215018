// How a latency table (latency_table.h) is measured and where it is cached: the settings behind
// --latency budgets, declared once for every method.
#pragma once

#include <cstdint>
#include <string>

#include "util/settings.h"

namespace vitc {

struct LatencyTableOptions {
  int64_t batch = 64;
  int repeats = 5;             // timed runs per block variant (median)
  int samples_per_class = 128;  // block variants measured per class of equal blocks
  int validation_models = 3;   // others timed whole to check the prediction
  uint64_t seed = 0;
  std::string threads;         // the process's thread description (util/threads.h)
  std::string cache_dir;       // empty: default_cache_dir()
  bool quiet = false;

  template <class Self, class Visitor>
  static void visit_settings(Self& self, Visitor& v) {
    v(Setting{"latency-batch",
              "batch size a --latency budget is measured and predicted at",
              Range::at_least(1), "batch", false},
      self.batch);
    v(Setting{"latency-table-repeats", "timed runs per block variant of the latency table",
              Range::at_least(1), "repeats", false},
      self.repeats);
    v(Setting{"latency-table-samples",
              "block variants the latency table measures per class of equal blocks",
              Range::at_least(4), "samples_per_class", false},
      self.samples_per_class);
    v(Setting{"latency-table-checks",
              "random compact models timed whole to check the latency table's predictions",
              Range::at_least(0), "validation_models", false},
      self.validation_models);
  }
};

}  // namespace vitc
