// What the kernel benchmarks (bench_softmax_rows, bench_layer_norm_rows, bench_head_attention)
// share: their two options and the interleaved timing of a kernel against its reference.
#pragma once

#include <cstdio>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "bench_main.h"
#include "report/latency.h"
#include "util/progress.h"
#include "util/threads.h"

namespace vitc::bench {

// A kernel benchmark's main: parses --reps (timed repetitions per shape, default `default_reps`)
// and --threads (torch intra-op threads; BLAS threads stay 1), applies and prints the threads,
// then returns body(reps), errors reported as bench_main.h does.
template <class Body>
int kernel_bench_main(int argc, char** argv, const char* title, int default_reps, Body&& body) {
  CLI::App app{title};
  int reps = default_reps;
  ThreadSettings threads{1, 1};
  app.add_option("--reps", reps, "timed repetitions per shape")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--threads", threads.torch_threads, "torch intra-op threads")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return report_errors([&] {
    std::printf("%s\n", configure_threads(threads).c_str());
    return body(reps);
  });
}

// Runs `reference` and `candidate` alternately, one warm-up pair then `reps` timed pairs, so that
// a shared machine's load hits both alike; returns their median seconds.
template <class Reference, class Candidate>
std::pair<double, double> interleaved_medians(int reps, Reference&& reference,
                                              Candidate&& candidate) {
  std::vector<double> a, b;
  for (int r = -1; r < reps; ++r) {
    Stopwatch sa;
    reference();
    const double ta = sa.seconds();
    Stopwatch sb;
    candidate();
    const double tb = sb.seconds();
    if (r >= 0) {
      a.push_back(ta);
      b.push_back(tb);
    }
  }
  return {median_of(a), median_of(b)};
}

}  // namespace vitc::bench
