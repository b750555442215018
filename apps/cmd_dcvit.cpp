// `vitc dcvit synth|run|sweep`: DC-ViT (dense few-shot compression without labels): a synthetic
// metric set by model inversion, block ranking, progressive compression, one or many targets.
#include <cstdio>
#include <filesystem>

#include "common.h"
#include "model/output_guard.h"
#include "dcvit_flags.h"
#include "setting_flags.h"
#include "compress/common/data_parallel.h"
#include "compress/dcvit/pipeline.h"
#include "compress/common/bn_statistics_prior.h"
#include "compress/common/resnet_block_budget.h"
#include "compress/dcvit/resnet_dcvit.h"
#include "compress/dcvit/synthetic_source.h"
#include "model/families/resnet/resnet_complexity.h"
#include "model/families/resnet/resnet_model_dir.h"
#include "compress/common/budget.h"
#include "model/complexity.h"
#include "model/model_dir.h"
#include "train/evaluate.h"
#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"

namespace vitc::app {

namespace {

// --synth-* flags of the model inversion.
struct SynthFlags {
  InversionOptions options;
  BnPriorOptions bn;  // ResNet teachers only
  void add_to(CLI::App& cmd) {
    add_setting_flags(cmd, options, InversionOptions::kFlagPrefix);
    add_setting_flags(cmd, bn, BnPriorOptions::kFlagPrefix);
    add_renamed_flag(cmd, "--synth-no-flip", "--synth-no-hflip");
  }
  InversionOptions get(bool quiet) const {
    InversionOptions o = options;
    o.quiet = quiet;
    o.validate();
    return o;
  }
};

// DC-ViT's own flags (run and sweep).
struct DcvitFlags {
  FewShotCommonFlags common;
  MimicFlags mimic;
  SynthFlags synth;
  std::string synth_dir;
  std::string ranking_dir;
  int min_block = -1, max_block = -1;
  std::string neurons = "random";
  uint64_t neuron_seed = 0;
  int rank_epochs = -1;
  int round_to = 1;
  int latency_repeats = 20;
  void add_to(CLI::App& cmd, const std::string& out_help) {
    common.add_to(cmd, out_help);
    mimic.add_to(cmd);
    synth.add_to(cmd);
    cmd.add_option("--synth", synth_dir,
                   "reuse the synthetic set of this directory (`vitc dcvit synth`) instead of "
                   "generating one in <out>/synth");
    cmd.add_option("--ranking", ranking_dir,
                   "the block ranking's directory instead of <out>/ranking: a finished ranking "
                   "there is reused (it must come from the same teacher, few-shot images and "
                   "settings), otherwise it is made there, for the next run to reuse");
    cmd.add_option("--min-block", min_block, "first candidate block (-1: 1; a Swin's candidates are pairs)")->capture_default_str();
    cmd.add_option("--max-block", max_block, "last candidate block (-1: depth-2)")->capture_default_str();
    cmd.add_option("--neurons", neurons, "kept MLP neurons: random (reference) or importance")
        ->capture_default_str();
    cmd.add_option("--neuron-seed", neuron_seed, "seed of the random neuron choice")
        ->capture_default_str();
    cmd.add_option("--rank-epochs", rank_epochs,
                   "finetuning epochs of each candidate in the block ranking (-1: --epochs); a "
                   "ranking made once with few epochs can serve runs that finetune longer")
        ->capture_default_str()
        ->check(CLI::Range(-1, 1 << 30));
    add_round_to_flag(cmd, round_to);
    cmd.add_option("--latency-repeats", latency_repeats,
                   "timed batch-64 runs of teacher and compressed model (0 = skip)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
  }
};

struct Prepared {
  FewShotInputs in;
  DcvitInputs dcvit;
  DcvitSettings settings;
  EvalResult teacher_eval;
  nlohmann::json synthetic_record;
  std::vector<DcvitJob> jobs;  // one per target text, in order, checked reachable (no out_dir yet)
  std::optional<Budget> latency_budget;  // `dcvit run --latency`: the budget with its table
};

// "0.7", "70%", "15.6M" or "15.6M:3" (target:k), counting `resource`; `flag` names it in errors.
DcvitJob parse_job(const std::string& text, const CostModel& cost, const std::string& flag,
                   int64_t teacher_amount, int blocks_flag) {
  DcvitJob job;
  job.cost = cost;
  std::string amount = text;
  const size_t colon = text.find(':');
  job.blocks = blocks_flag;
  if (colon != std::string::npos) {
    amount = text.substr(0, colon);
    const std::string k = text.substr(colon + 1);
    char* end = nullptr;
    const long v = std::strtol(k.c_str(), &end, 10);
    check(!k.empty() && end == k.c_str() + k.size() && v >= 1, flag, ": '", text,
          "': the number of blocks after ':' must be a positive integer");
    job.blocks = static_cast<int>(v);
  }
  job.target = parse_budget(amount, cost.resource(), flag).resolve(teacher_amount);
  return job;
}

// Loads the inputs, checks that every target (`--macs` / `--params` / `--targets` text, counting
// `resource`) is reachable, then makes or loads the synthetic set: an unreachable target fails
// before minutes of inversion. A latency target needs `budget_texts` (its table's settings) and
// the process's `threads`: the table is read or measured on the teacher first.
Prepared prepare(const DcvitFlags& f, const std::vector<std::string>& targets, Resource resource,
                 const std::string& flag, int blocks_flag,
                 const BudgetTexts* budget_texts = nullptr, const std::string& threads = "") {
  Prepared p;
  p.settings.mimic = f.mimic.get();
  p.settings.neurons = parse_neuron_choice(f.neurons);
  p.settings.neuron_seed = f.neuron_seed;
  p.settings.rank_epochs = f.rank_epochs;
  p.settings.round_to = f.round_to;
  p.settings.resume = f.common.resume;
  InversionOptions synth_options = f.synth.get(f.common.quiet);
  if (!f.synth_dir.empty()) check_out_differs(f.common.out, f.synth_dir, "synthetic set");
  if (!f.ranking_dir.empty()) check_out_differs(f.common.out, f.ranking_dir, "ranking");
  p.in = open_few_shot_inputs(f.common);
  const bool lead = lead_process(p.in.dist);
  p.settings.quiet = rank_quiet(f.common.quiet, p.in.dist);
  p.settings.dist = p.in.dist;
  synth_options.quiet = p.settings.quiet;
  p.settings.candidates = candidate_blocks(p.in.teacher->config(), f.min_block, f.max_block);
  std::optional<CostModel> cost;
  if (resource == Resource::latency) {
    check(budget_texts != nullptr, "DC-ViT: latency targets are for `dcvit run --latency`");
    p.latency_budget = resolve_budget(*budget_texts, *p.in.teacher, threads, p.settings.quiet,
                                      p.in.dist);
    cost = p.latency_budget->cost_model();
  } else {
    cost = CostModel(resource);
  }
  const int64_t teacher_amount = source_cost(p.in.teacher->config(), *cost);
  for (const std::string& t : targets) {
    p.jobs.push_back(parse_job(t, *cost, flag, teacher_amount, blocks_flag));
    if (budget_texts != nullptr) p.jobs.back().tolerance = budget_texts->tolerance;
    plan_dense_target(p.in.teacher->config(), p.settings.candidates, *cost,
                      p.jobs.back().target, p.jobs.back().blocks, p.jobs.back().tolerance,
                      p.settings.round_to);
  }
  p.dcvit.teacher = p.in.teacher;
  p.dcvit.teacher_info = p.in.teacher_info;
  p.dcvit.few_shot = p.in.few_shot;
  ObtainedSyntheticSet synthetic = obtain_synthetic_set(
      p.in.teacher, synth_options, {f.synth_dir, f.common.out + "/synth", f.common.resume},
      p.in.dist.get());
  p.dcvit.synthetic = synthetic.set;
  p.synthetic_record = synthetic.record;
  p.teacher_eval = evaluate(*p.in.teacher, *p.in.eval_data, f.common.eval_batch);
  if (lead) std::fprintf(stderr, "teacher top1 %.2f%%\n", p.teacher_eval.top1);
  return p;
}


int report(const Prepared& p, const DcvitFlags& f, const DcvitRunResult& run,
           nlohmann::json header, bool sweep) {
  if (!lead_process(p.in.dist)) return 0;  // rank 0 measures, writes and prints
  nlohmann::json summary = nlohmann::json::array();
  for (const DcvitJobResult& j : run.jobs) {
    nlohmann::json r = header;
    r["teacher"] = p.in.teacher_info;
    r["teacher"]["eval"] = eval_to_json(p.teacher_eval);
    r["data"] = f.common.data.to_json();
    r["few_shot"] = {{"options", f.common.few_shot.to_json()},
                     {"count", p.in.few_shot.indices.size()},
                     {"indices", p.in.few_shot.indices}};
    r["settings"] = p.settings.to_json();
    r["synthetic"] = p.synthetic_record;
    r["ranking"] = run.ranking_record;
    r["ranking"]["scores"] = run.ranking.to_json()["scores"];
    r.update(j.record);
    const std::string dir = j.record["result"]["dir"];
    char target[96];
    std::snprintf(target, sizeof target, "target %.2f%% %s  k=%d MLP %d",
                  100.0 * j.plan.target / j.plan.teacher_cost,
                  resource_name(j.plan.resource).c_str(), j.plan.blocks, j.plan.hidden);
    CompressionReport report = CompressionReport::of(dir, p.in.teacher, j.compact,
                                                     p.teacher_eval.top1, f.latency_repeats);
    report.prefix = target;
    report.latency_budget = p.latency_budget;
    r = report_compression(r, report, p.in.dist);
    const nlohmann::json& res = r["result"];
    summary.push_back({{"dir", dir},
                       {"plan", j.plan.to_json()},
                       {"blocks", j.record["blocks"]},
                       {"top1", res["top1"]},
                       {"macs", res["macs"]},
                       {"macs_fraction", res["macs_fraction"]},
                       {"params", res["params"]},
                       {"latency_ratio", r.contains("latency") ? r["latency"]["ratio"] : nlohmann::json()},
                       {"seconds", j.record["seconds"]}});
  }
  if (sweep) {
    nlohmann::json s = header;
    s["teacher"] = p.in.teacher_info;
    s["teacher"]["eval"] = eval_to_json(p.teacher_eval);
    s["ranking"] = run.ranking_record;
    s["targets"] = summary;
    if (p.in.dist) s["distributed"] = DistFlags::to_json(p.in.dist.get());
    write_json(f.common.out + "/sweep.json", s);
    std::fprintf(stderr, "wrote %s/sweep.json\n", f.common.out.c_str());
  }
  return 0;
}

// DC-ViT on a ResNet teacher (whole blocks; docs/cnn.md): synthetic set with the BatchNorm
// prior, block ranking by the synthetic-set KL after finetuning, progressive removal.
int run_on_resnet(const DcvitFlags& f, const Budget& budget, int blocks,
                  const std::string& threads, Stopwatch& clock) {
  ResNetDcvitSettings settings;
  settings.mimic = f.mimic.get();
  settings.rank_epochs = f.rank_epochs;
  settings.resume = f.common.resume;
  InversionOptions synth_options = f.synth.get(f.common.quiet);
  if (!f.synth_dir.empty()) check_out_differs(f.common.out, f.synth_dir, "synthetic set");
  if (!f.ranking_dir.empty()) check_out_differs(f.common.out, f.ranking_dir, "ranking");
  FewShotInputs in = open_few_shot_inputs(f.common, /*takes_resnet=*/true);
  check(f.round_to == 1, "--round-to ", f.round_to, ": DC-ViT on a ResNet removes whole blocks, "
        "it keeps no partial widths to round (leave --round-to out)");
  check(in.dist == nullptr, "DC-ViT on a ResNet runs in one process (no --dist-*)");
  ResNet teacher = in.cnn_teacher;
  const ResNetConfig& config = teacher->config();
  settings.teacher_info = in.teacher_info;
  settings.quiet = f.common.quiet;
  synth_options.quiet = settings.quiet;
  settings.candidates = resnet_candidates(config, f.min_block, f.max_block);
  const int64_t target = budget.resolve(resnet_amount(config, budget.resource));
  if (blocks > 0) {
    check(blocks <= static_cast<int>(settings.candidates.size()), "--blocks ", blocks,
          " is more than the ", settings.candidates.size(), " candidate blocks of '", config.name, "'");
  } else {  // reachable at all: before any work
    resnet_drops_for_budget(config, settings.candidates, budget.resource, target, budget.tolerance);
  }
  SyntheticSet synthetic;
  nlohmann::json synthetic_record;
  const std::string own = f.common.out + "/synth";
  if (!f.synth_dir.empty() || (f.common.resume && file_exists(own + "/synthetic.safetensors"))) {
    const std::string dir = f.synth_dir.empty() ? own : f.synth_dir;
    synthetic = load_synthetic_set(dir, config);
    check(!f.synth_dir.empty() ||
              (synthetic.info.value("options", nlohmann::json()) == synth_options.to_json() &&
               synthetic.info.value("prior_settings", nlohmann::json()) == f.synth.bn.to_json()),
          "cannot resume: the synthetic set in ", own, " was made with other --synth-* settings");
    synthetic_record = {{"dir", dir}, {"reused", true}};
  } else {
    synthetic = synthesize(resnet_inversion_subject(*teacher, f.synth.bn), synth_options, own);
    synthetic_record = {{"dir", own}, {"reused", false}};
  }
  for (const char* k : {"options", "best_loss", "first_loss", "teacher_agreement", "prior", "prior_settings"})
    if (synthetic.info.contains(k)) synthetic_record[k] = synthetic.info[k];
  const EvalResult teacher_eval = evaluate(classifier_of(*teacher), *in.eval_data, f.common.eval_batch);
  if (!settings.quiet) std::fprintf(stderr, "teacher top1 %.2f%%\n", teacher_eval.top1);
  // One ranking serves every budget: --ranking DIR computes it there once and reuses it after.
  const std::string ranking_dir = f.ranking_dir.empty() ? f.common.out + "/ranking" : f.ranking_dir;
  const ResNetDcvitRanking ranking = rank_resnet_blocks(teacher, in.few_shot, synthetic, settings,
                                                        ranking_dir, !f.ranking_dir.empty());
  const int k =
      blocks > 0 ? blocks : resnet_drops_for_budget(config, ranking.order(), budget.resource, target,
                                                         budget.tolerance);
  const ResNetDcvitResult result = compress_resnet_dcvit(
      teacher, in.few_shot, ranking, k, settings, *in.eval_data, f.common.out, f.common.eval_batch);
  nlohmann::json out = method_run_header("dcvit run", "dc-vit", threads);
  out["teacher"] = in.teacher_info;
  out["teacher"]["top1"] = teacher_eval.top1;
  out["teacher"]["eval"] = eval_to_json(teacher_eval);
  out["data"] = f.common.data.to_json();
  out["few_shot"] = {{"options", f.common.few_shot.to_json()},
                     {"count", in.few_shot.indices.size()},
                     {"indices", in.few_shot.indices}};
  out["settings"] = settings.to_json();
  out["settings"]["budget"] = budget.to_string();
  out["settings"]["target"] = target;
  out["settings"]["blocks"] = k;
  out["synthetic"] = synthetic_record;
  out["ranking"] = ranking.to_json(config);
  out["ranking"]["dir"] = ranking.dir;
  out["ranking"]["reused"] = ranking.reused;
  out.update(result.record);
  out["wall_seconds"] = clock.seconds();
  CompressionReport report;
  report.out_dir = f.common.out;
  report.cnn_teacher = teacher;
  report.cnn_compact = result.compact;
  report.teacher_top1 = teacher_eval.top1;
  report.latency_repeats = f.latency_repeats;
  report.prefix = "removed " + join(result.record["dropped_names"].get<std::vector<std::string>>());
  report_compression(out, report, in.dist);
  return 0;
}

}  // namespace

void add_dcvit_command(CLI::App& app, Runner& run) {
  CLI::App* dcvit = app.add_subcommand(
      "dcvit", "DC-ViT: dense few-shot compression without labels (docs/dc_vit.md; ResNets: whole "
      "blocks, docs/cnn.md)");
  dcvit->require_subcommand(1);

  struct SynthCmd {
    std::string teacher, out;
    bool quiet = false;
    bool overwrite = false;
    ComputeFlags compute;
    SynthFlags synth;
  };
  auto s = std::make_shared<SynthCmd>();
  CLI::App* synth = dcvit->add_subcommand(
      "synth", "invert the teacher into a synthetic metric set (PNG files + safetensors)");
  synth->add_option("--teacher", s->teacher, "teacher model directory")->required();
  synth->add_option("--out", s->out, "output directory (images/, grid.png, synthetic.*)")->required();
  synth->add_flag("--quiet", s->quiet, "no progress lines");
  add_overwrite_flag(*synth, s->overwrite);
  s->compute.add_to(*synth);
  s->synth.add_to(*synth);
  synth->callback([&run, s] {
    run = [s] {
      const std::string threads = s->compute.apply();
      const InversionOptions options = s->synth.get(s->quiet);
      check_out_differs(s->out, s->teacher, "teacher");
      check_output_dir(s->out, "dcvit synth", /*resume=*/false, s->overwrite);
      Stopwatch clock;
      SyntheticSet set;
      if (is_resnet_spec(s->teacher)) {  // DeepInversion with the BatchNorm-statistics prior
        ResNet teacher = load_resnet_dir(s->teacher).model;
        teacher->to(s->compute.device());
        set = synthesize(resnet_inversion_subject(*teacher, s->synth.bn), options, s->out);
      } else {
        VisionTransformer teacher = load_model_dir(s->teacher).model;
        teacher->to(s->compute.device());
        set = synthesize(teacher, options, s->out);
      }
      nlohmann::json r = method_run_header("dcvit synth", "dc-vit", threads);
      r["teacher_dir"] = s->teacher;
      r["synthetic"] = set.info;
      r["wall_seconds"] = clock.seconds();
      write_run_json(s->out, r);
      std::printf("synthetic set: %d images, teacher agreement %.0f%% -> %s\n", options.count,
                  100 * set.info["teacher_agreement"].get<double>(), s->out.c_str());
      return 0;
    };
  });

  struct RunCmd {
    DcvitFlags flags;
    BudgetTexts budget;
    int blocks = 0;
  };
  auto r = std::make_shared<RunCmd>();
  CLI::App* one = dcvit->add_subcommand(
      "run", "synthesize, rank blocks, compress progressively to one MACs (or parameter) target");
  r->flags.add_to(*one, "output model directory (synth/, ranking/, steps/ and run.json inside)");
  add_budget_flags(*one, r->budget, "the compressed model (one of them is required)");
  one->add_option("--blocks", r->blocks,
                  "number of candidates to compress, blocks or a Swin's pairs (0: the smallest that reaches the target)")
      ->capture_default_str();
  one->callback([&run, r] {
    run = [r] {
      Stopwatch clock;
      const std::string threads = r->flags.common.compute.apply();
      const Budget budget = parse_budget_flags(r->budget);  // bad flags fail before loading
      r->flags.mimic.get();
      if (is_resnet_spec(r->flags.common.teacher)) {
        return run_on_resnet(r->flags, budget, r->blocks, threads, clock);
      }
      const std::string flag = "--" + resource_key(budget.resource);
      Prepared p = prepare(r->flags, {r->budget.text()}, budget.resource, flag, r->blocks,
                           &r->budget, threads);
      DcvitJob job = p.jobs.front();
      job.out_dir = r->flags.common.out;
      const std::string ranking_dir =
          r->flags.ranking_dir.empty() ? r->flags.common.out + "/ranking" : r->flags.ranking_dir;
      const DcvitRunResult result =
          run_dcvit(p.dcvit, {job}, 0, ranking_dir,
                    !r->flags.ranking_dir.empty(), p.settings,
                    *p.in.eval_data, r->flags.common.eval_batch);
      nlohmann::json header = method_run_header("dcvit run", "dc-vit", threads);
      header["wall_seconds"] = clock.seconds();
      return report(p, r->flags, result, header, false);
    };
  });

  struct SweepCmd {
    DcvitFlags flags;
    std::vector<std::string> targets;
    std::string resource = "macs";
    int rank_at = 1;
  };
  auto w = std::make_shared<SweepCmd>();
  CLI::App* sweep = dcvit->add_subcommand(
      "sweep", "compress to several MACs (or parameter) targets, ranking the blocks once (dense compression)");
  w->flags.add_to(*sweep, "output directory: synth/, ranking/, one model directory per target, sweep.json");
  sweep->add_option("--targets", w->targets,
                    "comma-separated targets in --resource, each a fraction (0.9, 90%) or count "
                    "(15.6M), optionally ':k' blocks (0.8:3)")
      ->required()
      ->delimiter(',');
  sweep->add_option("--resource", w->resource, "what --targets count: macs or params")
      ->capture_default_str()
      ->check(CLI::IsMember({"macs", "params"}));
  sweep->add_option("--rank-at", w->rank_at,
                    "the ranking compresses candidates to the MLP width of this target (1-based)")
      ->capture_default_str();
  sweep->callback([&run, w] {
    run = [w] {
      Stopwatch clock;
      const std::string threads = w->flags.common.compute.apply();
      w->flags.mimic.get();
      const Resource resource = w->resource == "params" ? Resource::params : Resource::macs;
      for (const std::string& t : w->targets) {
        const size_t colon = t.find(':');
        parse_budget(colon == std::string::npos ? t : t.substr(0, colon), resource, "--targets");
      }
      check(w->rank_at >= 1 && w->rank_at <= static_cast<int>(w->targets.size()), "--rank-at ",
            w->rank_at, " must lie in [1, ", w->targets.size(), "] (a position in --targets)");
      Prepared p = prepare(w->flags, w->targets, resource, "--targets", 0);
      std::vector<DcvitJob> jobs = p.jobs;
      for (size_t i = 0; i < jobs.size(); ++i) {
        std::string label = w->targets[i];
        for (char& c : label)
          if (c == ':' || c == '%' || c == '/') c = '_';
        jobs[i].out_dir = w->flags.common.out + "/target_" + label;
      }
      const std::string ranking_dir =
          w->flags.ranking_dir.empty() ? w->flags.common.out + "/ranking" : w->flags.ranking_dir;
      const DcvitRunResult result =
          run_dcvit(p.dcvit, jobs, w->rank_at - 1, ranking_dir,
                    !w->flags.ranking_dir.empty(), p.settings,
                    *p.in.eval_data, w->flags.common.eval_batch);
      nlohmann::json header = method_run_header("dcvit sweep", "dc-vit", threads);
      header["wall_seconds"] = clock.seconds();
      return report(p, w->flags, result, header, true);
    };
  });
}

}  // namespace vitc::app
