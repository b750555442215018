// What every compression command shares: teacher/output/resume flags, opening the teacher and
// the data, the finetuning flag group, and the same-run latency comparison for run.json.
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common.h"
#include "compress/common/finetune.h"
#include "model/vit.h"

namespace vitc::app {

// --teacher (when `with_teacher`), --out, --resume, --quiet, threads and data flags.
struct MethodFlags {
  std::string teacher;
  std::string out;
  bool resume = false;
  bool quiet = false;
  ThreadFlags threads;
  DataFlags data;
  void add_to(CLI::App& cmd, const std::string& out_help, bool with_teacher = true);
};

// The teacher and the data, opened once per command.
struct MethodInputs {
  std::string teacher_dir;
  VisionTransformer teacher{nullptr};
  std::shared_ptr<const Dataset> train_data, eval_data;
};

// Refuses an --out equal to the teacher, loads it and the train/test splits, prints a summary.
MethodInputs open_inputs(const MethodFlags& flags, const std::string& teacher_dir);

// Refuses an --out that would overwrite `other` (the teacher or a search directory).
void check_out_differs(const std::string& out, const std::string& other, const std::string& what);

// {"dir", "config", "macs", "params"} of a teacher.
nlohmann::json teacher_info(const std::string& dir, const ViTConfig& config);

// Batch-64 latency of teacher and compact model, interleaved in one process (same conditions),
// `repeats` timed rounds after two warm-up rounds; "ratio" = compact / teacher median.
nlohmann::json compare_latency(VisionTransformer teacher, VisionTransformer compact, int repeats);

// {"command", "method", "command_line", "environment"}: the head of a method's run.json.
nlohmann::json method_run_header(const std::string& command, const std::string& method,
                                 const std::string& threads);

// --finetune-* flags (stage 2 of every method: the compact model trained with the shared
// trainer, optionally distilled from the teacher) and --latency-repeats. The defaults are the
// same for every method, so that methods and baselines are finetuned alike.
struct FinetuneFlags {
  FinetuneOptions options;
  int latency_repeats = 20;
  FinetuneFlags();
  void add_to(CLI::App& cmd);
  // Validated options writing to `out_dir`.
  FinetuneOptions get(const std::string& out_dir, bool resume, bool quiet) const;
};

}  // namespace vitc::app
