// What every compression command shares: teacher/output/resume flags, opening the teacher and
// the data, the finetuning flag group, and the same-run latency comparison for run.json.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common.h"
#include "compress/common/budget.h"
#include "compress/common/finetune.h"
#include "model/vit.h"

namespace vitc::app {

// --teacher (when `with_teacher`), --out, --resume, --quiet, threads, data and --dist-* flags.
struct MethodFlags {
  std::string command;  // "prune", "slim run", ...: as run.json names it
  std::string teacher;
  std::string out;
  bool resume = false;
  bool overwrite = false;
  bool quiet = false;
  ComputeFlags compute;
  DataFlags data;
  DistFlags dist;  // data-parallel training stages (docs/distributed.md)
  // `with_train_subset`: also --train-subset/--train-per-class/... (methods that train on the
  // training split; the few-shot methods choose their images with their own flags).
  void add_to(CLI::App& cmd, const std::string& out_help, bool with_teacher = true,
              bool with_train_subset = true);
  // Refuses an --out that is the teacher or holds another run (model/output_guard.h); every
  // command calls it before it loads anything.
  void check_out() const;
};

// --round-to N (compress/common/round_to.h), declared once for every method's extraction.
void add_round_to_flag(CLI::App& cmd, int& round_to);

// --macs, --params and --latency (compress/common/budget.h), --budget-tolerance, and the latency
// table's settings (--latency-batch, --latency-cache, ...), declared once for every method that
// takes a budget;
// the budgets exclude each other. `what` ends the help text ("the compressed model", ...).
// parse_budget_flags(texts) reads them after parsing.
void add_budget_flags(CLI::App& cmd, BudgetTexts& texts, const std::string& what);

// The budget the flags give. For --latency, the table of `source` (the dense teacher, on the
// device the command runs on) is read from the cache or measured now, with the cache file
// printed, and attached to the budget. `threads` is the process's thread description (it keys
// the cache).
// With a data-parallel `group`, rank 0 measures while the others wait, then they read its table.
Budget resolve_budget(const BudgetTexts& texts, VisionTransformerImpl& source,
                      const std::string& threads, bool quiet,
                      const std::shared_ptr<dist::Group>& group = nullptr);

// The teacher and the data, opened once per command.
struct MethodInputs {
  std::string teacher_dir;
  VisionTransformer teacher{nullptr};
  std::shared_ptr<const Dataset> train_data, eval_data;
  std::shared_ptr<dist::Group> dist;  // connected from --dist-*; null = one process
};

// Refuses an --out equal to the teacher, connects the --dist-* group, loads the teacher and the
// train/test splits, prints a summary (rank 0).
MethodInputs open_inputs(const MethodFlags& flags, const std::string& teacher_dir);

// Refuses an --out that would overwrite `other` (the teacher or a search directory).
void check_out_differs(const std::string& out, const std::string& other, const std::string& what);

// {"dir", "config", "macs", "params"} of a teacher.
nlohmann::json teacher_info(const std::string& dir, const ViTConfig& config);

// Batch-64 (or `batch`) latency of teacher and compact model, interleaved in one process (same
// conditions), `repeats` timed rounds after two warm-up rounds; "ratio" = compact / teacher median.
nlohmann::json compare_latency(VisionTransformer teacher, VisionTransformer compact, int repeats,
                               int64_t batch = 64);
nlohmann::json compare_latency(ResNet teacher, ResNet compact, int repeats);

// The end of every compression command, on rank 0 only (other ranks return at once): the
// batch-64 latency of teacher and compact model in one interleaved run (`latency_repeats`
// rounds; 0 = skip), run["result"]["top1_drop"], run.json in `out_dir`, and the summary line
//   [<prefix>  ]top1 T% (teacher t%)  MACs M (m%)  params P (p%)[  <suffix>][  latency b64 xR
//   of the teacher]  -> out_dir
// from run["result"] (model_summary + macs_fraction, params_fraction). With a `latency_budget`
// (a --latency budget), the latency is measured at its table's batch and run["latency_budget"]
// holds the target, the table's prediction and the measured ratio, printed as
// "latency b64 xR of the teacher (predicted xP, target xT)". Returns run as written.
struct CompressionReport {
  std::string out_dir;
  VisionTransformer teacher{nullptr}, compact{nullptr};
  double teacher_top1 = 0;
  int latency_repeats = 20;
  std::string prefix, suffix;
  ResNet cnn_teacher{nullptr}, cnn_compact{nullptr};  // instead of teacher and compact
  std::optional<Budget> latency_budget;  // set for --latency budgets

  // A ViT method's report: the fields every command sets (the others are set by name after).
  static CompressionReport of(std::string out_dir, VisionTransformer teacher,
                              VisionTransformer compact, double teacher_top1,
                              int latency_repeats);
};
// `budget` if it is a latency budget, for CompressionReport::latency_budget.
std::optional<Budget> latency_budget_of(const Budget& budget);
nlohmann::json report_compression(nlohmann::json run, const CompressionReport& report,
                                  const std::shared_ptr<dist::Group>& group);

// {"command", "method", "command_line", "environment"}: the head of a method's run.json.
nlohmann::json method_run_header(const std::string& command, const std::string& method,
                                 const std::string& threads);

// What every method command does with its --dist-* group (null = one process): rank 0 prints the
// summary and writes run.json, the other ranks stay quiet and write nothing.
bool lead_process(const std::shared_ptr<dist::Group>& group);
// --quiet, or a rank other than 0 (its progress would repeat rank 0's).
bool rank_quiet(bool quiet, const std::shared_ptr<dist::Group>& group);
// On rank 0 only: adds "distributed" (DistFlags::to_json) when there is a group, then
// write_run_json.
void write_method_run_json(const std::string& dir, nlohmann::json run,
                           const std::shared_ptr<dist::Group>& group);

// --finetune-* flags (stage 2 of every method: the compact model trained with the shared
// trainer, optionally distilled from the teacher) and --latency-repeats. The defaults are the
// same for every method, so that methods and baselines are finetuned alike.
struct FinetuneFlags {
  FinetuneOptions options;
  int latency_repeats = 20;
  FinetuneFlags();  // the defaults of the baselines and ViT-Slim
  explicit FinetuneFlags(FinetuneOptions defaults) : options(std::move(defaults)) {}
  // `help_prefix` starts every help text ("stage-2 ").
  void add_to(CLI::App& cmd, const std::string& help_prefix = "");
  // Validated options writing to `out_dir`.
  FinetuneOptions get(const std::string& out_dir, bool resume, bool quiet) const;
};

}  // namespace vitc::app
