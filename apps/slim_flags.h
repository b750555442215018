// Flag groups of `vitc slim`: the search settings and the budget + finetuning settings, each
// declared once and shared by `slim search`, `slim extract` and `slim run`.
#pragma once

#include <string>
#include <utility>

#include <CLI/CLI.hpp>

#include "method_flags.h"
#include "compress/slim/pipeline.h"
#include "compress/slim/search.h"

namespace vitc::app {

// Search settings. `prefix` ("" in `slim search`, "search-" in `slim run`) goes before the flags
// that finetuning also has (--epochs, --lr, ...); the --lambda-* flags have none.
struct SearchFlags {
  SearchOptions options;
  std::string prefix;
  void add_to(CLI::App& cmd, const std::string& flag_prefix);
  // Validated options (a bad flag fails here, before anything is loaded).
  SearchOptions get(const std::string& out_dir, bool resume, bool quiet) const;
};

// Budget (--macs, --params or --budget-*), --fold, finetuning (--finetune-*) and
// --latency-repeats.
struct ExtractFlags {
  BudgetTexts budget;
  ExtractOptions extract;
  bool fold = false;
  FinetuneFlags finetune;  // and --latency-repeats
  void add_to(CLI::App& cmd);
  // Parsed and validated options for the output directory `out_dir`.
  std::pair<ExtractOptions, FinetuneOptions> get(const std::string& out_dir, bool resume,
                                                 bool quiet) const;
};

}  // namespace vitc::app
