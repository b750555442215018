// Markdown and CSV renderings of the method comparison.
#include "report/results_table.h"

#include <cstdio>

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

std::string results_markdown(const ResultRow& teacher, const std::vector<ResultRow>& rows) {
  std::string md =
      "| method | budget | MACs (M) | MACs | params (M) | top-1 (%) | vs teacher | latency b1 | "
      "latency b64 | wall time |\n|---|---|---|---|---|---|---|---|---|---|\n";
  md += "| teacher | - | " + fixed(teacher.macs / 1e6, 2) + " | 100% | " +
        fixed(teacher.params / 1e6, 3) + " | " + fixed(teacher.top1, 2) + " | - | 1.00 | 1.00 | - |\n";
  for (const ResultRow& r : rows) {
    if (r.status != "ok") {
      md += "| " + r.method + " | " + r.budget + " | " + r.status + " |||||||\n";
      continue;
    }
    md += "| " + r.method + " | " + r.budget + " | " + fixed(r.macs / 1e6, 2) + " | " +
          fixed(100 * r.macs_fraction, 1) + "% | " + fixed(r.params / 1e6, 3) + " | " +
          fixed(r.top1, 2) + " | " + signed_fixed(r.top1_delta, 2) + " | " +
          fixed(r.latency_b1_ratio, 2) + " | " + fixed(r.latency_b64_ratio, 2) + " | " +
          format_duration(r.wall_seconds) + " |\n";
  }
  return md;
}

std::string results_csv(const ResultRow& teacher, const std::vector<ResultRow>& rows) {
  std::string csv =
      "method,budget,status,macs,params,macs_fraction,top1,top1_delta,latency_b1_ratio,"
      "latency_b64_ratio,wall_seconds,dir\n";
  auto line = [&](const ResultRow& r) {
    csv += csv_field(r.method) + "," + csv_field(r.budget) + "," + csv_field(r.status) + "," +
           std::to_string(r.macs) + "," + std::to_string(r.params) + "," +
           fixed(r.macs_fraction, 6) + "," + fixed(r.top1, 4) + "," + fixed(r.top1_delta, 4) + "," +
           fixed(r.latency_b1_ratio, 4) + "," + fixed(r.latency_b64_ratio, 4) + "," +
           fixed(r.wall_seconds, 1) + "," + csv_field(r.dir) + "\n";
  };
  line(teacher);
  for (const ResultRow& r : rows) line(r);
  return csv;
}

}  // namespace vitc
