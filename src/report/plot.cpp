// gnuplot data blocks per method, a script, and the gnuplot run.
#include "report/plot.h"

#include <algorithm>
#include <map>

#include "util/error.h"
#include "util/files.h"
#include "util/subprocess.h"

namespace vitc {

namespace {

std::string quoted(const std::string& s) {
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\\\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

void plot_accuracy_vs_macs(const ResultRow& teacher, const std::vector<ResultRow>& rows,
                           const std::string& stem, const std::string& title) {
  // One data block per method (gnuplot's "index"), points sorted by MACs.
  std::vector<std::string> methods;
  std::map<std::string, std::vector<const ResultRow*>> by_method;
  for (const ResultRow& r : rows) {
    if (!has_result(r)) continue;
    if (!by_method.count(r.method)) methods.push_back(r.method);
    by_method[r.method].push_back(&r);
  }
  std::string data = "# MACs (M)  top-1 (%)\n";
  for (const std::string& m : methods) {
    auto& points = by_method[m];
    std::sort(points.begin(), points.end(),
              [](const ResultRow* a, const ResultRow* b) { return a->macs < b->macs; });
    data += "# " + m + "\n";
    for (const ResultRow* r : points) data += str_cat(r->macs / 1e6, " ", r->top1, "\n");
    data += "\n\n";
  }
  data += "# teacher\n" + str_cat(teacher.macs / 1e6, " ", teacher.top1, "\n");
  atomic_write_string(stem + ".dat", data);

  const std::string dat = quoted(stem + ".dat");
  std::string plot = "plot ";
  for (size_t i = 0; i < methods.size(); ++i) {
    plot += str_cat(dat, " index ", i, " using 1:2 with linespoints lw 2 pt ", 5 + 2 * (i % 4),
                    " ps 1.3 title ", quoted(methods[i]), ", ");
  }
  plot += str_cat(dat, " index ", methods.size(),
                  " using 1:2 with points pt 3 ps 2.5 lc rgb 'black' title 'teacher'\n");
  std::string script = "# gnuplot script written by vitc; rerun with: gnuplot " + stem + ".gp\n";
  script += "set title " + quoted(title) + "\n";
  script +=
      "set xlabel 'MACs (millions)'\nset ylabel 'top-1 (%)'\nset grid\n"
      "set key bottom right box opaque\nset offsets graph 0.05, graph 0.05, graph 0.05, graph "
      "0.05\n";
  // noenhanced: titles and method names are printed as written ("fm_small", not "fm" with a
  // subscript "s").
  script += "set terminal svg size 900,600 dynamic noenhanced font 'sans,13'\nset output " +
            quoted(stem + ".svg") + "\n" + plot;
  script += "set terminal png size 900,600 noenhanced font 'sans,11'\nset output " + quoted(stem + ".png") +
            "\nreplot\nunset output\n";
  atomic_write_string(stem + ".gp", script);
  check(program_in_path("gnuplot"),
        "gnuplot is not installed (Debian package gnuplot-nox): the table is written, the plot "
        "is not; install it and run: gnuplot ",
        stem, ".gp");
  const SubprocessResult r = run_subprocess({"gnuplot", stem + ".gp"}, stem + ".gnuplot.log");
  check(r.exit_code == 0, "gnuplot failed (exit ", r.exit_code, "); see ", stem, ".gnuplot.log");
}

}  // namespace vitc
