// Flags, inputs and latency comparison shared by the compression commands.
#include "method_flags.h"

#include "setting_flags.h"

#include <cstdio>
#include <filesystem>

#include "compress/common/latency_table.h"
#include "compress/common/round_to.h"
#include "model/complexity.h"
#include "model/model_dir.h"
#include "model/output_guard.h"
#include "report/latency.h"
#include "util/error.h"
#include "util/run_info.h"

namespace vitc::app {

void MethodFlags::add_to(CLI::App& cmd, const std::string& out_help, bool with_teacher,
                         bool with_train_subset) {
  command = full_command_name(cmd);
  if (with_teacher) cmd.add_option("--teacher", teacher, "teacher model directory")->required();
  cmd.add_option("--out", out, out_help)->required();
  cmd.add_flag("--resume", resume,
               "continue an interrupted run in --out, reusing its finished stages (same settings)");
  add_overwrite_flag(cmd, overwrite);
  cmd.add_flag("--quiet", quiet, "no progress lines");
  compute.add_to(cmd);
  data.add_to(cmd, with_train_subset);
  dist.add_to(cmd);
}

void add_round_to_flag(CLI::App& cmd, int& round_to) {
  setting_flags_detail::AddFlags{cmd, "", ""}(setting::kRoundTo, round_to);
}

void add_budget_flags(CLI::App& cmd, BudgetTexts& texts, const std::string& what) {
  CLI::Option* macs = cmd.add_option(
      "--macs", texts.macs,
      str_cat("MACs budget of ", what, ": a fraction of the teacher's (0.5, 50%) or absolute (11.1M)"));
  CLI::Option* params = cmd.add_option(
      "--params", texts.params,
      str_cat("parameter budget of ", what,
              " instead of --macs: a fraction of the teacher's (0.5, 50%) or absolute (2.1M)"));
  CLI::Option* latency = cmd.add_option(
      "--latency", texts.latency,
      str_cat("latency budget of ", what,
              " instead of --macs: a fraction of the teacher's latency measured on this machine "
              "(0.5, 50%), predicted from a per-block latency table cached per machine, device, "
              "batch and threads"));
  params->excludes(macs);
  latency->excludes(macs);
  latency->excludes(params);
  cmd.add_option("--budget-tolerance", texts.tolerance,
                 "how close (relative) the compressed model's MACs, parameters or predicted "
                 "latency must be to the budget")
      ->capture_default_str()
      ->check(CLI::Range(1e-6, 0.5));
  add_setting_flags(cmd, texts.latency_table);
  cmd.add_option("--latency-cache", texts.latency_table.cache_dir,
                 str_cat("directory of the latency tables (default ", default_cache_dir(),
                         "; VITC_CACHE_DIR moves it)"));
}

Budget resolve_budget(const BudgetTexts& texts, VisionTransformerImpl& source,
                      const std::string& threads, bool quiet,
                      const std::shared_ptr<dist::Group>& group) {
  Budget budget = parse_budget_flags(texts);
  if (budget.resource != Resource::latency) return budget;
  validate_settings(texts.latency_table);
  LatencyTableOptions options = texts.latency_table;
  options.threads = threads;
  options.quiet = quiet || !lead_process(group);
  // One process measures (the others would disturb its timings); the rest read its table.
  if (group != nullptr && !lead_process(group)) group->barrier();
  const LatencyTable table = load_or_measure_latency_table(source, options);
  if (group != nullptr && lead_process(group)) group->barrier();
  quiet = options.quiet;
  budget.latency = std::make_shared<const LatencyModel>(table.model);
  if (!quiet) {
    std::printf("latency budget: %.3f of the teacher's %.3f ms at batch %lld = %.3f ms\n",
                budget.value, table.model.source_ms, static_cast<long long>(table.model.batch),
                budget.value * table.model.source_ms);
    std::fflush(stdout);
  }
  return budget;
}

void check_out_differs(const std::string& out, const std::string& other, const std::string& what) {
  namespace fs = std::filesystem;
  check(fs::weakly_canonical(out) != fs::weakly_canonical(other), "--out ", out, " is the ", what,
        " directory: writing there would overwrite it; choose another --out");
}

void MethodFlags::check_out() const {
  if (!teacher.empty()) check_out_differs(out, teacher, "teacher");
  check_output_dir(out, command, resume, overwrite);
}

MethodInputs open_inputs(const MethodFlags& flags, const std::string& teacher_dir) {
  flags.check_out();
  check_out_differs(flags.out, teacher_dir, "teacher");
  MethodInputs in;
  in.dist = flags.dist.connect();
  in.teacher_dir = teacher_dir;
  in.teacher = load_model_dir(teacher_dir).model;
  in.teacher->to(flags.compute.device());
  in.teacher->eval();
  const ViTConfig& config = in.teacher->config();
  in.train_data = flags.data.open("train", config.mean, config.std, config.img_size);
  in.eval_data = flags.data.open("test", config.mean, config.std, config.img_size);
  const Complexity c = compute_complexity(config);
  if (lead_process(in.dist))
    std::fprintf(
      stderr, "teacher %s: %.3f M params, %.2f M MACs; train %lld images, test %lld images\n",
      teacher_dir.c_str(), c.params() / 1e6, c.macs() / 1e6,
      static_cast<long long>(in.train_data->size()), static_cast<long long>(in.eval_data->size()));
  return in;
}

bool lead_process(const std::shared_ptr<dist::Group>& group) {
  return group == nullptr || group->rank() == 0;
}

bool rank_quiet(bool quiet, const std::shared_ptr<dist::Group>& group) {
  return quiet || !lead_process(group);
}

void write_method_run_json(const std::string& dir, nlohmann::json run,
                           const std::shared_ptr<dist::Group>& group) {
  if (!lead_process(group)) return;
  if (group != nullptr) run["distributed"] = DistFlags::to_json(group.get());
  write_run_json(dir, run);
}

nlohmann::json teacher_info(const std::string& dir, const ViTConfig& config) {
  const Complexity c = compute_complexity(config);
  return {{"dir", std::filesystem::absolute(dir).lexically_normal().string()},
          {"config", config.name},
          {"macs", c.macs()},
          {"params", c.params()}};
}

namespace {

// Teacher and compact model alternated, after two warm-up rounds (report/latency.h).
template <class Model>
nlohmann::json compare_interleaved(Model& teacher, Model& compact, const at::Tensor& images,
                                   int repeats) {
  teacher.eval();
  compact.eval();
  const InterleavedLatency r = interleaved_latency(
      [&teacher](const at::Tensor& x) { return teacher.forward(x); },
      [&compact](const at::Tensor& x) { return compact.forward(x); }, images, 2, repeats);
  return {{"batch", images.size(0)},
          {"teacher", latency_to_json(r.a)},
          {"compact", latency_to_json(r.b)},
          {"ratio", r.ratio}};
}

}  // namespace

nlohmann::json compare_latency(VisionTransformer teacher, VisionTransformer compact, int repeats,
                               int64_t batch) {
  const at::Tensor images = latency_input(teacher->config(), batch, teacher->device());
  return compare_interleaved(*teacher, *compact, images, repeats);
}

nlohmann::json compare_latency(ResNet teacher, ResNet compact, int repeats) {
  const ResNetConfig& c = teacher->config();
  const at::Tensor images = latency_input(c.in_chans, c.img_size, 64, teacher->device());
  return compare_interleaved(*teacher, *compact, images, repeats);
}

CompressionReport CompressionReport::of(std::string out_dir, VisionTransformer teacher,
                                         VisionTransformer compact, double teacher_top1,
                                         int latency_repeats) {
  CompressionReport r;
  r.out_dir = std::move(out_dir);
  r.teacher = std::move(teacher);
  r.compact = std::move(compact);
  r.teacher_top1 = teacher_top1;
  r.latency_repeats = latency_repeats;
  return r;
}

std::optional<Budget> latency_budget_of(const Budget& budget) {
  if (budget.resource != Resource::latency) return std::nullopt;
  return budget;
}

nlohmann::json report_compression(nlohmann::json run, const CompressionReport& report,
                                  const std::shared_ptr<dist::Group>& group) {
  if (!lead_process(group)) return run;
  nlohmann::json& r = run["result"];
  r["top1_drop"] = report.teacher_top1 - r["top1"].get<double>();
  const LatencyModel* table =
      report.latency_budget ? report.latency_budget->latency.get() : nullptr;
  const int64_t batch = table != nullptr ? table->batch : 64;
  if (report.latency_repeats > 0) {
    run["latency"] =
        report.cnn_teacher
            ? compare_latency(report.cnn_teacher, report.cnn_compact, report.latency_repeats)
            : compare_latency(report.teacher, report.compact, report.latency_repeats, batch);
  }
  if (table != nullptr) {
    const double predicted_ms = table->compact_ms(report.compact->config());
    nlohmann::json& b = run["latency_budget"];
    b = {{"batch", table->batch},
         {"target_ratio", report.latency_budget->value},
         {"teacher_table_ms", table->source_ms},
         {"predicted_ms", predicted_ms},
         {"predicted_ratio", predicted_ms / table->source_ms}};
    if (run.contains("latency")) {
      b["measured_ratio"] = run["latency"]["ratio"];
      b["measured_vs_target"] =
          run["latency"]["ratio"].get<double>() / report.latency_budget->value - 1.0;
    }
  }
  write_method_run_json(report.out_dir, run, group);
  if (!report.prefix.empty()) std::printf("%s  ", report.prefix.c_str());
  std::printf("top1 %.2f%% (teacher %.2f%%)  MACs %.3f M (%.1f%%)  params %.3f M (%.1f%%)",
              r["top1"].get<double>(), report.teacher_top1, r["macs"].get<int64_t>() / 1e6,
              100 * r["macs_fraction"].get<double>(), r["params"].get<int64_t>() / 1e6,
              100 * r["params_fraction"].get<double>());
  if (!report.suffix.empty()) std::printf("  %s", report.suffix.c_str());
  if (run.contains("latency"))
    std::printf("  latency b%lld x%.2f of the teacher", static_cast<long long>(batch),
                run["latency"]["ratio"].get<double>());
  if (run.contains("latency_budget")) {
    std::printf(" (predicted x%.2f, target x%.2f)",
                run["latency_budget"]["predicted_ratio"].get<double>(),
                report.latency_budget->value);
  }
  std::printf("  -> %s\n", report.out_dir.c_str());
  std::fflush(stdout);
  return run;
}

nlohmann::json method_run_header(const std::string& command, const std::string& method,
                                 const std::string& threads) {
  return {{"command", command},
          {"method", method},
          {"command_line", command_line()},
          {"environment", environment_json(threads)}};
}

FinetuneFlags::FinetuneFlags() {
  TrainOptions& t = options.train;
  t.epochs = 3;
  t.lr = 5e-4;
  t.warmup_epochs = 0;
  options.loss.alpha = 0.5;
}

void FinetuneFlags::add_to(CLI::App& cmd, const std::string& help_prefix) {
  add_setting_flags(cmd, options, "finetune-", help_prefix);
  cmd.add_option("--latency-repeats", latency_repeats,
                 "timed batch-64 runs of teacher and compact model (0 = skip)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
}

FinetuneOptions FinetuneFlags::get(const std::string& out_dir, bool resume, bool quiet) const {
  FinetuneOptions f = options;
  f.train.out_dir = out_dir;
  f.train.resume = resume;
  f.train.quiet = quiet;
  f.validate("finetune-");
  return f;
}

}  // namespace vitc::app
