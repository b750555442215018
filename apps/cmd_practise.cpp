// `vitc practise run`: PRACTISE ported to ViTs (whole blocks dropped, chosen by recoverability
// per latency saved), the few-shot baseline DC-ViT compares against.
#include <cstdio>
#include <optional>

#include "common.h"
#include "dcvit_flags.h"
#include "setting_flags.h"
#include "compress/common/macs_budget.h"
#include "compress/dcvit/plan.h"
#include "compress/practise/practise.h"
#include "report/latency.h"
#include "train/evaluate.h"
#include "util/error.h"
#include "util/progress.h"

namespace vitc::app {

void add_practise_command(CLI::App& app, Runner& run) {
  CLI::App* practise = app.add_subcommand(
      "practise", "PRACTISE (ViT port): drop the most recoverable blocks, few-shot, no labels");
  practise->require_subcommand(1);
  struct RunCmd {
    FewShotCommonFlags common;
    MimicFlags mimic;
    RecoverOptions recover;
    int drop = 0;
    std::string macs;
    int min_block = -1, max_block = -1;
    std::string ranking_dir;
    bool front = false;
    bool macs_proxy = false;
    int latency_repeats = 20;
  };
  auto r = std::make_shared<RunCmd>();
  CLI::App* cmd = practise->add_subcommand(
      "run", "score every candidate block, drop the best --drop, finetune by feature mimicking");
  r->common.add_to(*cmd, "output model directory (ranking/, finetune/ and run.json inside)");
  r->mimic.add_to(*cmd);
  CLI::Option* drop_opt = cmd->add_option("--drop", r->drop, "number of whole blocks to drop (default 1)");
  cmd->add_option("--macs", r->macs,
                  "instead of --drop: drop the fewest ranked blocks that bring the MACs to this "
                  "budget (0.5, 50% or 11.1M; whole blocks are coarse, so usually below it)")
      ->excludes(drop_opt);
  cmd->add_option("--min-block", r->min_block, "first candidate block (-1: 1)")->capture_default_str();
  cmd->add_option("--max-block", r->max_block, "last candidate block (-1: depth-2)")->capture_default_str();
  cmd->add_option("--ranking", r->ranking_dir,
                  "reuse the finished PRACTISE scores in this directory instead of scoring in "
                  "<out>/ranking");
  add_setting_flags(*cmd, r->recover, RecoverOptions::kFlagPrefix);
  cmd->add_flag("--finetune-front", r->front,
                "finetune only up to the block after the last dropped one (DC-ViT's rule) "
                "instead of every block");
  cmd->add_flag("--latency-proxy-macs", r->macs_proxy,
                "score by the MACs saved instead of the measured batch-64 latency");
  cmd->add_option("--latency-repeats", r->latency_repeats,
                  "timed batch-64 runs per candidate and of the final model (0 = skip the final)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->callback([&run, r] {
    run = [r] {
      Stopwatch clock;
      const std::string threads = r->common.compute.apply();
      PractiseSettings settings;
      settings.mimic = r->mimic.get();
      settings.recover = r->recover;
      settings.recover.validate();
      settings.finetune_all = !r->front;
      settings.latency_repeats = std::max(1, r->latency_repeats);
      settings.resume = r->common.resume;
      if (r->macs.empty() && r->drop == 0) r->drop = 1;
      check(!r->macs.empty() || r->drop >= 1, "--drop must be at least 1, got ", r->drop);
      const std::optional<MacsTarget> budget =
          r->macs.empty() ? std::nullopt : std::optional<MacsTarget>(parse_macs_target(r->macs));
      if (!r->ranking_dir.empty()) check_out_differs(r->common.out, r->ranking_dir, "ranking");
      FewShotInputs in = open_few_shot_inputs(r->common);
      const bool lead = lead_process(in.dist);
      settings.quiet = rank_quiet(r->common.quiet, in.dist);
      settings.dist = in.dist;
      settings.candidates = candidate_blocks(in.teacher->config(), r->min_block, r->max_block);
      check(r->drop <= static_cast<int>(settings.candidates.size()), "--drop ", r->drop,
            " is more than the ", settings.candidates.size(), " candidate blocks");
      if (budget)  // unreachable budgets fail before the scoring, not after it
        drops_for_macs(in.teacher->config(), settings.candidates,
                       budget->resolve(in.teacher_info["macs"].get<int64_t>()));
      const EvalResult teacher_eval = evaluate(*in.teacher, *in.eval_data, r->common.eval_batch);
      if (lead) std::fprintf(stderr, "teacher top1 %.2f%%\n", teacher_eval.top1);
      LatencyFn latency;
      if (!r->macs_proxy) {
        const at::Tensor images = latency_input(in.teacher->config(), 64, in.teacher->device());
        latency = [images](VisionTransformerImpl& m) { return time_forward_ms(m, images); };
      }
      Stopwatch rank_clock;
      const PractiseRanking ranking =
          r->ranking_dir.empty()
              ? rank_practise(in.teacher, in.teacher_info, in.few_shot, settings,
                              r->common.out + "/ranking", latency)
              : load_practise_ranking(r->ranking_dir);
      const double rank_seconds = rank_clock.seconds();
      if (lead) std::fprintf(stderr, "practise: order %s\n", join(ranking.order()).c_str());
      if (budget) {
        const int64_t target = budget->resolve(in.teacher_info["macs"].get<int64_t>());
        r->drop = drops_for_macs(in.teacher->config(), ranking.order(), target);
        if (lead)
          std::fprintf(stderr, "practise: --macs %s -> drop %d blocks\n", r->macs.c_str(), r->drop);
      }
      PractiseResult result = compress_practise(in.teacher, in.teacher_info, in.few_shot, ranking,
                                                r->drop, settings, *in.eval_data, r->common.out,
                                                r->common.eval_batch);
      nlohmann::json out = method_run_header("practise run", "practise", threads);
      out["teacher"] = in.teacher_info;
      out["teacher"]["eval"] = eval_to_json(teacher_eval);
      out["data"] = r->common.data.to_json();
      out["few_shot"] = {{"options", r->common.few_shot.to_json()},
                         {"count", in.few_shot.indices.size()},
                         {"indices", in.few_shot.indices}};
      out["settings"] = settings.to_json();
      out["settings"]["drop"] = r->drop;
      if (budget) out["settings"]["macs_target"] = budget->to_string();
      out["ranking"] = ranking.to_json();
      out["ranking"]["dir"] = ranking.dir;
      out["ranking"]["reused"] = !r->ranking_dir.empty();
      out["ranking"]["wall_seconds"] = rank_seconds;
      out.update(result.record);
      out["result"]["top1_drop"] = teacher_eval.top1 - result.record["result"]["top1"].get<double>();
      out["wall_seconds"] = clock.seconds();
      if (!lead) return 0;  // rank 0 measures, writes and prints
      if (r->latency_repeats > 0)
        out["latency"] = compare_latency(in.teacher, result.compact, r->latency_repeats);
      write_method_run_json(r->common.out, out, in.dist);
      const nlohmann::json& res = out["result"];
      std::printf("dropped %s  top1 %.2f%% (teacher %.2f%%)  MACs %.3f M (%.1f%%)  params %.3f M",
                  join(result.record["dropped"].get<std::vector<int>>()).c_str(),
                  res["top1"].get<double>(), teacher_eval.top1, res["macs"].get<int64_t>() / 1e6,
                  100 * res["macs_fraction"].get<double>(), res["params"].get<int64_t>() / 1e6);
      if (out.contains("latency")) std::printf("  latency b64 x%.3f", out["latency"]["ratio"].get<double>());
      std::printf("  -> %s\n", r->common.out.c_str());
      return 0;
    };
  });
}

}  // namespace vitc::app
