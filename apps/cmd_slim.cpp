// `vitc slim search|extract|run`: ViT-Slim (search once with soft masks, extract any budget,
// slice, finetune). Flags are declared once per group and shared by the three subcommands.
#include <cstdio>
#include <filesystem>

#include "common.h"
#include "method_flags.h"
#include "slim_flags.h"
#include "compress/slim/pipeline.h"
#include "compress/slim/search.h"
#include "model/complexity.h"
#include "model/model_dir.h"
#include "report/latency.h"
#include "util/error.h"
#include "util/progress.h"
#include "util/run_info.h"

namespace vitc::app {

namespace {

using CommonFlags = MethodFlags;
using Inputs = MethodInputs;

// The teacher a search directory names, unless --teacher overrides it.
std::string search_teacher(const CommonFlags& common, const SearchDir& search) {
  if (!common.teacher.empty()) return common.teacher;
  const std::string dir = search.info.value("teacher", nlohmann::json::object()).value("dir", "");
  check(!dir.empty() && std::filesystem::is_directory(dir), "the teacher '", dir, "' recorded in ",
        search.dir, "/search.json is not a directory: pass --teacher DIR");
  return dir;
}

// Extraction + finetuning + latency + run.json, shared by `extract` and `run`.
int extract_and_report(const CommonFlags& common, const ExtractFlags& flags,
                       const SearchDir& search, const Inputs& in, nlohmann::json run) {
  auto [extract, finetune] = flags.get(common.out, common.resume, rank_quiet(common.quiet, in.dist));
  finetune.train.dist = in.dist;
  if (extract.budget) {  // a --latency budget gets its table, measured on the teacher
    extract.budget = resolve_budget(flags.budget, *VisionTransformer(in.teacher),
                                    run["environment"]["threads"].get<std::string>(),
                                    rank_quiet(common.quiet, in.dist), in.dist);
  }
  run["teacher_dir"] = in.teacher_dir;
  run["data"] = common.data.to_json();
  CompressResult result =
      compress_from_search(search, in.teacher, in.train_data, in.eval_data, extract, finetune);
  run.update(result.record);
  CompressionReport report = CompressionReport::of(
      common.out, in.teacher, result.compact, result.record["teacher"]["top1"].get<double>(),
      flags.finetune.latency_repeats);
  if (extract.budget) report.latency_budget = latency_budget_of(*extract.budget);
  report_compression(run, report, in.dist);
  return 0;
}

nlohmann::json run_header(const std::string& command, const std::string& threads) {
  return method_run_header(command, "vit-slim", threads);
}

SearchResult search_and_report(const CommonFlags& common, const Inputs& in,
                               SearchOptions options, nlohmann::json run) {
  const nlohmann::json info = teacher_info(in.teacher_dir, in.teacher->config());
  VisionTransformer teacher = in.teacher;  // read only: the search trains a copy
  options.dist = in.dist;
  SearchResult result = run_search(*teacher, info, in.train_data, in.eval_data, options);
  run["teacher"] = info;
  run["data"] = common.data.to_json();
  run["settings"] = options.trajectory_json();
  run["search"] = result.to_json();
  write_method_run_json(options.out_dir, run, in.dist);
  return result;
}

void add_common(CLI::App& cmd, CommonFlags& c, const std::string& out_help) {
  c.add_to(cmd, out_help, /*with_teacher=*/false);
}

}  // namespace

void add_slim_command(CLI::App& app, Runner& run) {
  CLI::App* slim = app.add_subcommand(
      "slim", "ViT-Slim: soft-mask search, then extraction at any budget and finetuning");
  slim->require_subcommand(1);

  struct SearchCmd {
    CommonFlags common;
    SearchFlags search;
  };
  auto s = std::make_shared<SearchCmd>();
  CLI::App* search = slim->add_subcommand(
      "search", "search soft masks once on a teacher (writes a search directory)");
  search->add_option("--teacher", s->common.teacher, "teacher model directory")->required();
  add_common(*search, s->common,
             "search directory (searched weights, masks, search.json, checkpoint)");
  s->search.add_to(*search, "");
  search->callback([&run, s] {
    run = [s] {
      const std::string threads = s->common.compute.apply();
      const SearchOptions options = s->search.get(s->common.out, s->common.resume, s->common.quiet);
      const Inputs in = open_inputs(s->common, s->common.teacher);
      const SearchResult r =
          search_and_report(s->common, in, options, run_header("slim search", threads));
      if (!lead_process(in.dist)) return 0;
      std::printf("search done: soft-mask top1 %.2f%%  wall %s  -> %s\n",
                  r.post_search_eval.is_object() ? r.post_search_eval["top1"].get<double>() : 0.0,
                  format_duration(r.search_seconds).c_str(), s->common.out.c_str());
      return 0;
    };
  });

  struct ExtractCmd {
    CommonFlags common;
    std::string search_dir;
    ExtractFlags extract;
  };
  auto x = std::make_shared<ExtractCmd>();
  CLI::App* extract = slim->add_subcommand(
      "extract", "extract a compressed model at a budget from a search (no new search)");
  extract->add_option("--search", x->search_dir, "search directory from `vitc slim search`")
      ->required();
  extract->add_option("--teacher", x->common.teacher,
                      "teacher model directory (default: the one in search.json)");
  add_common(*extract, x->common,
             "output model directory (weights, Structure, run.json, checkpoint)");
  x->extract.add_to(*extract);
  extract->callback([&run, x] {
    run = [x] {
      const std::string threads = x->common.compute.apply();
      x->extract.get(x->common.out, x->common.resume,
                     x->common.quiet);  // bad flags fail before loading
      check_out_differs(x->common.out, x->search_dir, "search");
      x->common.check_out();
      SearchDir search = load_search_dir(x->search_dir);
      search.model->to(x->common.compute.device());
      const Inputs in = open_inputs(x->common, search_teacher(x->common, search));
      return extract_and_report(x->common, x->extract, search, in,
                                run_header("slim extract", threads));
    };
  });

  struct RunCmd {
    CommonFlags common;
    SearchFlags search;
    ExtractFlags extract;
  };
  auto r = std::make_shared<RunCmd>();
  CLI::App* all = slim->add_subcommand(
      "run", "search, extract at one budget and finetune (search kept in <out>/search)");
  all->add_option("--teacher", r->common.teacher, "teacher model directory")->required();
  add_common(*all, r->common, "output model directory; the search goes to <out>/search");
  r->search.add_to(*all, "search-");
  r->extract.add_to(*all);
  all->callback([&run, r] {
    run = [r] {
      const std::string threads = r->common.compute.apply();
      r->extract.get(r->common.out, r->common.resume,
                     r->common.quiet);  // bad flags fail before the search
      const SearchOptions options =
          r->search.get(r->common.out + "/search", r->common.resume, r->common.quiet);
      const Inputs in = open_inputs(r->common, r->common.teacher);
      search_and_report(r->common, in, options, run_header("slim run (search)", threads));
      SearchDir search = load_search_dir(options.out_dir);
      search.model->to(r->common.compute.device());
      return extract_and_report(r->common, r->extract, search, in, run_header("slim run", threads));
    };
  });
}

}  // namespace vitc::app
