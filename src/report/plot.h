// Top-1 against MACs, one line per method and the teacher as a point, drawn by gnuplot (Debian's
// gnuplot-nox) as SVG and PNG.
#pragma once

#include <string>
#include <vector>

#include "report/results_table.h"

namespace vitc {

// Writes <stem>.dat (the points), <stem>.gp (the gnuplot script, rerunnable by hand) and runs
// gnuplot to make <stem>.svg and <stem>.png. Rows whose status is not "ok" are left out. Throws
// vitc::Error if gnuplot is not installed (naming the package) or fails (naming its log).
void plot_accuracy_vs_macs(const ResultRow& teacher, const std::vector<ResultRow>& rows,
                           const std::string& stem, const std::string& title);

}  // namespace vitc
