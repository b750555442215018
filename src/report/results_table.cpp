// Markdown and CSV renderings of the method comparison.
#include "report/results_table.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "util/error.h"
#include "util/progress.h"

namespace vitc {

namespace {

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string signed_fixed(double value, int decimals) {
  return (value >= 0 ? "+" : "") + fixed(value, decimals);
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

std::vector<ResultRow> aggregate_over_seeds(const std::vector<ResultRow>& rows) {
  std::vector<ResultRow> out;
  for (size_t i = 0; i < rows.size();) {
    size_t j = i;
    while (j < rows.size() && !rows[i].seed.empty() && rows[j].method == rows[i].method &&
           rows[j].budget == rows[i].budget)
      ++j;
    if (j == i) {  // no seed: as it is
      out.push_back(rows[i++]);
      continue;
    }
    std::vector<const ResultRow*> ok;
    std::string first_failure;
    for (size_t k = i; k < j; ++k) {
      if (rows[k].status == "ok") ok.push_back(&rows[k]);
      else if (first_failure.empty()) first_failure = rows[k].status;
    }
    ResultRow a = rows[i];
    a.seed = "";
    a.runs = static_cast<int>(ok.size());
    if (ok.empty()) {
      a.status = first_failure;
      out.push_back(a);
      i = j;
      continue;
    }
    const double n = static_cast<double>(ok.size());
    double macs = 0, params = 0, frac = 0, top1 = 0, delta = 0, b1 = 0, b64 = 0, wall = 0;
    for (const ResultRow* r : ok) {
      macs += r->macs, params += r->params, frac += r->macs_fraction, top1 += r->top1;
      delta += r->top1_delta, b1 += r->latency_b1_ratio, b64 += r->latency_b64_ratio;
      wall += r->wall_seconds;
    }
    a.macs = static_cast<int64_t>(macs / n + 0.5), a.params = static_cast<int64_t>(params / n + 0.5);
    a.macs_fraction = frac / n, a.top1 = top1 / n, a.top1_delta = delta / n;
    a.latency_b1_ratio = b1 / n, a.latency_b64_ratio = b64 / n, a.wall_seconds = wall / n;
    double var = 0;
    for (const ResultRow* r : ok) var += (r->top1 - a.top1) * (r->top1 - a.top1);
    a.top1_std = ok.size() > 1 ? std::sqrt(var / (n - 1)) : 0.0;
    a.status = first_failure.empty()
                   ? "ok"
                   : str_cat("ok (", j - i - ok.size(), " of ", j - i, " runs failed: ", first_failure, ")");
    a.dir = std::filesystem::path(rows[i].dir).parent_path().string();
    out.push_back(a);
    i = j;
  }
  return out;
}

std::string results_markdown(const ResultRow& teacher, const std::vector<ResultRow>& rows) {
  std::string md =
      "| method | budget | MACs (M) | MACs | params (M) | top-1 (%) | vs teacher | latency b1 | "
      "latency b64 | wall time |\n|---|---|---|---|---|---|---|---|---|---|\n";
  md += "| teacher | - | " + fixed(teacher.macs / 1e6, 2) + " | 100% | " +
        fixed(teacher.params / 1e6, 3) + " | " + fixed(teacher.top1, 2) + " | - | 1.00 | 1.00 | - |\n";
  for (const ResultRow& r : rows) {
    if (!has_result(r)) {
      md += "| " + r.method + " | " + r.budget + " | " + r.status + " |||||||\n";
      continue;
    }
    const std::string top1 = r.runs > 1 ? fixed(r.top1, 2) + " ± " + fixed(r.top1_std, 2) + " (" +
                                              std::to_string(r.runs) + ")"
                                        : fixed(r.top1, 2);
    md += "| " + r.method + " | " + r.budget + " | " + fixed(r.macs / 1e6, 2) + " | " +
          fixed(100 * r.macs_fraction, 1) + "% | " + fixed(r.params / 1e6, 3) + " | " +
          top1 + " | " + signed_fixed(r.top1_delta, 2) + " | " +
          fixed(r.latency_b1_ratio, 2) + " | " + fixed(r.latency_b64_ratio, 2) + " | " +
          format_duration(r.wall_seconds) + (r.status == "ok" ? "" : " " + r.status.substr(3)) +
          " |\n";
  }
  return md;
}

std::string results_csv(const ResultRow& teacher, const std::vector<ResultRow>& rows) {
  std::string csv =
      "method,budget,seed,runs,status,macs,params,macs_fraction,top1,top1_std,top1_delta,"
      "latency_b1_ratio,latency_b64_ratio,wall_seconds,dir\n";
  auto line = [&](const ResultRow& r) {
    csv += csv_field(r.method) + "," + csv_field(r.budget) + "," + csv_field(r.seed) + "," +
           std::to_string(r.runs) + "," + csv_field(r.status) + "," +
           std::to_string(r.macs) + "," + std::to_string(r.params) + "," +
           fixed(r.macs_fraction, 6) + "," + fixed(r.top1, 4) + "," + fixed(r.top1_std, 4) + "," +
           fixed(r.top1_delta, 4) + "," +
           fixed(r.latency_b1_ratio, 4) + "," + fixed(r.latency_b64_ratio, 4) + "," +
           fixed(r.wall_seconds, 1) + "," + csv_field(r.dir) + "\n";
  };
  line(teacher);
  for (const ResultRow& r : rows) line(r);
  return csv;
}

}  // namespace vitc
