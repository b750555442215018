// Flags of `vitc uvc run`: budget, stage-1 search settings (--search-*, UVC's own --slr, --zlr-...)
// and stage-2 finetuning settings (--finetune-*).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "compress/uvc/pipeline.h"
#include "method_flags.h"

namespace vitc::app {

struct UvcFlags {
  BudgetTexts budget;        // --macs, --params or --latency: "0.5", "50%", "11.1M", "11100000"
  std::string zlr_schedule = "0.1";
  UvcSearchOptions search;
  int round_to = 1;
  FinetuneFlags finetune{uvc_finetune_defaults()};  // stage 2, with its --latency-repeats
  void add_to(CLI::App& cmd);
  // Options for `teacher` with `budget` (resolve_budget of `budget` on it), resolved against its
  // MACs, parameters or latency; the search goes to <out>/search.
  UvcRunOptions get(const ViTConfig& teacher, const Budget& budget, const std::string& out_dir,
                    bool resume, bool quiet) const;
  // Checks what can be checked before the teacher is loaded (names the flag).
  void validate_early() const;
};

}  // namespace vitc::app
