// Planning, ranking and per-target progressive compression.
#include "compress/dcvit/pipeline.h"

#include <algorithm>

#include "compress/common/candidate_blocks.h"
#include "compress/common/data_parallel.h"
#include "compress/common/finalize.h"
#include "compress/dcvit/progressive.h"
#include "model/complexity.h"
#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"

namespace vitc {

DcvitRunResult run_dcvit(const DcvitInputs& in, const std::vector<DcvitJob>& jobs, int rank_job,
                         const std::string& ranking_dir, bool reuse_ranking,
                         const DcvitSettings& settings, const Dataset& eval_data,
                         int64_t eval_batch) {
  check(!jobs.empty(), "DC-ViT: no targets");
  check(rank_job >= 0 && rank_job < static_cast<int>(jobs.size()), "DC-ViT: ranking target ",
        rank_job, " is not one of the ", jobs.size(), " targets");
  settings.mimic.validate();
  const ViTConfig& config = in.teacher->config();
  std::vector<DcvitPlan> plans;
  for (const DcvitJob& job : jobs)
    plans.push_back(plan_dense_target(config, settings.candidates, job.cost, job.target,
                                      job.blocks, job.tolerance, settings.round_to));
  for (const DcvitPlan& p : plans) {
    check(p.blocks <= static_cast<int>(settings.candidates.size()), "DC-ViT: ", p.blocks,
          " blocks to compress but only ", settings.candidates.size(), " candidates");
  }

  DcvitRunResult run;
  Stopwatch rank_clock;
  const bool quiet = settings.quiet || !is_lead(settings.dist.get());
  const bool have = file_exists(ranking_dir + "/ranking.json");
  if (lead_decides(settings.dist.get(), reuse_ranking && have,
                   str_cat("reusing the ranking in ", ranking_dir))) {
    run.ranking = load_ranking(ranking_dir);
    run.ranking_record = {{"dir", ranking_dir}, {"reused", true}};
    if (!quiet) std::fprintf(stderr, "ranking: reusing %s (order %s)\n", ranking_dir.c_str(),
                                      join(run.ranking.order()).c_str());
  } else {
    run.ranking = rank_blocks(in, plans[static_cast<size_t>(rank_job)].hidden, settings, ranking_dir);
    run.ranking_record = {{"dir", ranking_dir}, {"reused", false}};
  }
  run.ranking_record["order"] = run.ranking.order();
  run.ranking_record["hidden"] = run.ranking.hidden;
  run.ranking_record["seconds"] = rank_clock.seconds();
  run.ranking_record["ranking_seconds"] = run.ranking.seconds;
  for (const DcvitPlan& p : plans) {
    check(p.blocks <= static_cast<int>(run.ranking.scores.size()), "DC-ViT: ", p.blocks,
          " blocks to compress but the ranking in ", ranking_dir, " has only ",
          run.ranking.scores.size(), " candidates");
  }

  for (size_t j = 0; j < jobs.size(); ++j) {
    Stopwatch clock;
    const DcvitPlan& plan = plans[j];
    const std::vector<int> order = run.ranking.order();
    const std::vector<int> candidates(order.begin(), order.begin() + plan.blocks);
    std::vector<int> blocks = candidate_group_blocks(config, candidates);
    std::sort(blocks.begin(), blocks.end());
    if (!quiet) {
      const std::string unit = resource_name(plan.resource);
      std::fprintf(stderr, "DC-ViT target %s %s: compress blocks %s to MLP width %d (%.1f%% of the teacher's %s)\n",
                   amount_text(plan.target, plan.resource).c_str(), unit.c_str(), join(blocks).c_str(),
                   plan.hidden, 100.0 * plan.cost / plan.teacher_cost, unit.c_str());
    }
    ProgressiveResult pr = compress_progressively(in, candidates, plan.hidden, settings,
                                                  jobs[j].out_dir + "/steps", &run.ranking);
    const nlohmann::json provenance = {{"compressed_by", "vitc dcvit (DC-ViT)"},
                                       {"blocks", blocks},
                                       {"mlp_hidden", plan.hidden}};
    FinalModel final_model = finalize_compressed(*pr.model, pr.structure, eval_data, eval_batch,
                                                 jobs[j].out_dir, provenance,
                                                 settings.dist.get());
    // The plan's affine costs are the compact model's exactly (up to rounding to picoseconds).
    const int64_t compact_amount = compact_cost(config, pr.structure, jobs[j].cost);
    const int64_t slack = plan.resource == Resource::latency ? 1000 : 0;
    check(std::abs(compact_amount - plan.cost) <= slack, "internal: planned ",
          amount_text(plan.cost, plan.resource), " ", resource_name(plan.resource),
          " but the compressed model has ", amount_text(compact_amount, plan.resource));
    if (plan.resource != Resource::latency) {
      check(final_model.record[resource_key(plan.resource)].get<int64_t>() == plan.cost,
            "internal: planned ", plan.cost, " ", resource_name(plan.resource),
            " but the compressed model's record has ",
            final_model.record[resource_key(plan.resource)].get<int64_t>());
    }
    DcvitJobResult r;
    r.plan = plan;
    r.compact = final_model.compact;
    r.record = {{"plan", plan.to_json()},
                {"candidates", candidates},
                {"blocks", blocks},
                {"steps", pr.steps},
                {"result", final_model.record},
                {"seconds", clock.seconds()}};
    run.jobs.push_back(std::move(r));
  }
  return run;
}

}  // namespace vitc
