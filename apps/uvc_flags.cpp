// Registration, parsing and validation of the `vitc uvc run` flags.
#include "uvc_flags.h"

#include <cstdlib>
#include <sstream>

#include "compress/common/macs_budget.h"
#include "util/error.h"

namespace vitc::app {

namespace {

std::vector<double> parse_schedule(const std::string& text) {
  std::vector<double> values;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    char* end = nullptr;
    const double v = std::strtod(item.c_str(), &end);
    check(!item.empty() && end == item.c_str() + item.size(), "--zlr-schedule: cannot read '",
          item, "' in '", text, "'; expected comma-separated numbers such as 1,5,9,13,17");
    values.push_back(v);
  }
  check(!values.empty(), "--zlr-schedule: expected comma-separated numbers, got '", text, "'");
  return values;
}

}  // namespace

void UvcFlags::add_to(CLI::App& cmd) {
  cmd.add_option("--macs", budget,
                 "MACs budget: a fraction of the teacher's MACs (0.5, 50%) or an absolute count "
                 "(11.1M, 11100000), as for every method")
      ->required();
  // The flag's old name fails with the new one, so that old scripts stop with a clear message.
  cmd.add_option_function<std::string>(
         "--budget",
         [](const std::string&) {
           throw CLI::ValidationError("--budget", "is now --macs (the same values: 0.5, 50%, 11.1M)");
         })
      ->group("");  // not shown in --help
  cmd.add_option("--macs-tolerance", options.macs_tolerance,
                 "how close (relative) the final Structure must be to the budget")
      ->capture_default_str();
  UvcSearchOptions& s = options.search;
  cmd.add_option("--search-epochs", s.epochs, "stage-1 (joint search) epochs")->capture_default_str();
  cmd.add_option("--search-warmup-epochs", s.warmup_epochs,
                 "stage-1 warmup: gates fixed, no pruning/dual updates (fractions allowed)")
      ->capture_default_str();
  cmd.add_option("--warmup-gate", s.warmup_gate, "block gate value during the warmup")
      ->capture_default_str();
  cmd.add_option("--search-batch-size", s.batch_size, "stage-1 batch size")->capture_default_str();
  cmd.add_option("--search-lr", s.lr, "stage-1 AdamW peak learning rate (cosine)")
      ->capture_default_str();
  cmd.add_option("--search-min-lr", s.min_lr, "stage-1 final learning rate")->capture_default_str();
  cmd.add_option("--search-lr-warmup-epochs", s.lr_warmup_epochs, "stage-1 linear lr warmup")
      ->capture_default_str();
  cmd.add_option("--search-weight-decay", s.weight_decay, "stage-1 AdamW weight decay")
      ->capture_default_str();
  cmd.add_option("--search-clip-grad", s.clip_grad, "stage-1 max gradient norm (0 = off)")
      ->capture_default_str();
  cmd.add_option("--search-label-smoothing", s.loss.label_smoothing, "stage-1 label smoothing")
      ->capture_default_str();
  cmd.add_option("--search-kd-alpha", s.loss.alpha, "stage-1 weight of distillation (0 = CE only)")
      ->capture_default_str();
  cmd.add_option("--search-kd-temperature", s.loss.temperature, "stage-1 KD temperature")
      ->capture_default_str();
  cmd.add_option("--search-seed", s.seed, "stage-1 seed (data order, augmentation, Gumbel noise)")
      ->capture_default_str();
  cmd.add_option("--search-pad", s.augment.pad, "stage-1 random-crop padding (0 = off)")
      ->capture_default_str();
  cmd.add_flag("--search-hflip", s.augment.hflip, "stage-1 random horizontal flips");
  cmd.add_option("--search-max-steps-per-epoch", s.max_steps_per_epoch,
                 "truncate stage-1 epochs (0 = full)")
      ->capture_default_str();
  PrimalDualOptions& pd = s.primal_dual;
  cmd.add_option("--slr", pd.slr, "SGD lr of the head/MLP pruning fractions")->capture_default_str();
  cmd.add_option("--rlr", pd.rlr, "SGD lr of the per-head dim pruning fractions")
      ->capture_default_str();
  cmd.add_option("--ylr", pd.ylr, "dual step of the head/MLP group penalties")->capture_default_str();
  cmd.add_option("--plr", pd.plr, "dual step of the dim penalties")->capture_default_str();
  cmd.add_option("--zlr-schedule", zlr_schedule,
                 "dual step of the budget multiplier z, piecewise constant over equal parts of "
                 "the search after the warmup (e.g. 1,5,9,13,17)")
      ->capture_default_str();
  cmd.add_option("--rho", pd.rho,
                 "augmented-Lagrangian weight of the budget (0 = the reference's plain z term)")
      ->capture_default_str();
  cmd.add_option("--glr", pd.glr, "gate SGD learning rate")->capture_default_str();
  cmd.add_option("--gating-weight", pd.gating_weight, "weight of the MACs term in the gate gradient")
      ->capture_default_str();
  cmd.add_option("--gating-interval", pd.gating_interval, "steps between gate updates")
      ->capture_default_str();
  cmd.add_option("--tau", pd.tau, "Gumbel-softmax temperature of the gates")->capture_default_str();

  TrainOptions& t = options.finetune.train;
  t.epochs = 3;
  t.lr = 1e-4;
  t.min_lr = 1e-5;
  t.warmup_epochs = 0;
  options.finetune.loss.alpha = 0.1;
  cmd.add_option("--finetune-epochs", t.epochs, "stage-2 epochs (0 = none)")->capture_default_str();
  cmd.add_option("--finetune-batch-size", t.batch_size, "stage-2 batch size")->capture_default_str();
  cmd.add_option("--finetune-lr", t.lr, "stage-2 peak learning rate (AdamW, cosine)")
      ->capture_default_str();
  cmd.add_option("--finetune-min-lr", t.min_lr, "stage-2 final learning rate")->capture_default_str();
  cmd.add_option("--finetune-warmup-epochs", t.warmup_epochs, "stage-2 linear warmup")
      ->capture_default_str();
  cmd.add_option("--finetune-weight-decay", t.weight_decay, "stage-2 AdamW weight decay")
      ->capture_default_str();
  cmd.add_option("--finetune-label-smoothing", t.label_smoothing, "stage-2 label smoothing")
      ->capture_default_str();
  cmd.add_option("--finetune-clip-grad", t.clip_grad, "stage-2 max gradient norm (0 = off)")
      ->capture_default_str();
  cmd.add_option("--finetune-kd-alpha", options.finetune.loss.alpha,
                 "stage-2 weight of distillation (0 = CE only)")
      ->capture_default_str();
  cmd.add_option("--finetune-kd-temperature", options.finetune.loss.temperature,
                 "stage-2 KD temperature")
      ->capture_default_str();
  cmd.add_option("--finetune-seed", t.seed, "stage-2 seed")->capture_default_str();
  cmd.add_option("--finetune-pad", t.augment.pad, "stage-2 random-crop padding (0 = off)")
      ->capture_default_str();
  cmd.add_flag("--finetune-hflip", t.augment.hflip, "stage-2 random horizontal flips");
  cmd.add_option("--finetune-max-steps-per-epoch", t.max_steps_per_epoch,
                 "truncate stage-2 epochs (0 = full)")
      ->capture_default_str();
  cmd.add_option("--latency-repeats", latency_repeats,
                 "timed batch-64 runs of teacher and compact model (0 = skip)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
}

void UvcFlags::validate_early() const {
  parse_macs_target(budget);
  parse_schedule(zlr_schedule);
}

UvcRunOptions UvcFlags::get(int64_t teacher_macs, const std::string& out_dir, bool resume,
                            bool quiet) const {
  UvcRunOptions o = options;
  o.search.target_macs = parse_macs_target(budget).resolve(teacher_macs);
  o.search.zlr_schedule = parse_schedule(zlr_schedule);
  o.search.out_dir = out_dir + "/search";
  o.search.resume = resume;
  o.search.quiet = quiet;
  o.finetune.train.out_dir = out_dir;
  o.finetune.train.resume = resume;
  o.finetune.train.quiet = quiet;
  o.validate();
  return o;
}

}  // namespace vitc::app
