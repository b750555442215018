// The method comparison as a table: one row per (method, budget) with MACs, parameters, top-1 and
// latency relative to the teacher, as Markdown (for people and the README) and CSV (for tools).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vitc {

struct ResultRow {
  std::string method;
  std::string budget;       // as configured ("0.5"); "-" for the teacher
  std::string status = "ok";  // "ok", or why there is no result ("failed: exit 1, see ...")
  int64_t macs = 0;
  int64_t params = 0;
  double macs_fraction = 0;  // of the teacher
  double top1 = 0;
  double top1_delta = 0;     // top1 - teacher top1 (points)
  double latency_b1_ratio = 0;   // median latency / teacher's, same run
  double latency_b64_ratio = 0;
  double wall_seconds = 0;   // of the method's command
  std::string dir;           // the model directory
  std::string seed;          // "" unless the experiment lists seeds
  int runs = 1;              // aggregated rows: the seeds averaged (top1_std their spread)
  double top1_std = 0;       // sample standard deviation over the runs
};

// Whether a row holds a measured result ("ok", or an aggregate where some seeds failed).
inline bool has_result(const ResultRow& r) { return r.status.rfind("ok", 0) == 0; }

// One row per (method, budget) from per-seed rows (in order; rows without a seed pass through):
// means of every number over the successful runs, top1_std their sample standard deviation. A
// group whose runs all failed keeps the first failure; one where some failed says how many in
// its status after the means ("ok (1 of 5 runs failed: ...)").
std::vector<ResultRow> aggregate_over_seeds(const std::vector<ResultRow>& rows);

// Markdown table; the teacher first, then rows grouped by method in the given order. Aggregated
// rows (runs > 1) show top-1 as "mean ± std (n)".
std::string results_markdown(const ResultRow& teacher, const std::vector<ResultRow>& rows);

// CSV with a header line (seed, runs and top1_std included); fields with commas or quotes are
// quoted.
std::string results_csv(const ResultRow& teacher, const std::vector<ResultRow>& rows);

}  // namespace vitc
