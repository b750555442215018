// Registration and validation of the `vitc slim` flag groups.
#include "slim_flags.h"

namespace vitc::app {

void SearchFlags::add_to(CLI::App& cmd, const std::string& prefix) {
  const std::string& p = prefix;
  SearchOptions& o = options;
  cmd.add_option("--" + p + "epochs", o.epochs, "search epochs")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd.add_option("--" + p + "batch-size", o.batch_size, "search batch size")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd.add_option("--" + p + "lr", o.lr, "constant AdamW learning rate of weights and masks")
      ->capture_default_str();
  cmd.add_option("--" + p + "weight-decay", o.weight_decay, "AdamW weight decay (masks included)")
      ->capture_default_str();
  cmd.add_option("--" + p + "clip-grad", o.clip_grad, "max gradient norm (0 = off)")
      ->capture_default_str();
  cmd.add_option("--" + p + "label-smoothing", o.loss.label_smoothing, "label smoothing")
      ->capture_default_str();
  cmd.add_option("--" + p + "kd-alpha", o.loss.alpha,
                 "weight of distillation from the teacher (0 = CE only)")
      ->capture_default_str();
  cmd.add_option("--" + p + "kd-temperature", o.loss.temperature, "distillation temperature")
      ->capture_default_str();
  cmd.add_option("--" + p + "seed", o.seed, "seed of data order and augmentation")
      ->capture_default_str();
  cmd.add_option("--" + p + "pad", o.augment.pad, "random-crop padding in pixels (0 = off)")
      ->capture_default_str();
  cmd.add_flag("--" + p + "hflip", o.augment.hflip, "random horizontal flips");
  cmd.add_option("--" + p + "max-steps-per-epoch", o.max_steps_per_epoch,
                 "truncate epochs (0 = full)")
      ->capture_default_str();
  cmd.add_option("--lambda-attn", o.lambdas.attn,
                 "L1 weight of the attention masks (sum, not mean)")
      ->capture_default_str();
  cmd.add_option("--lambda-mlp", o.lambdas.mlp, "L1 weight of the MLP masks")
      ->capture_default_str();
  cmd.add_option("--lambda-tokens", o.lambdas.tokens,
                 "L1 weight of the token masks (with --tokens)")
      ->capture_default_str();
  cmd.add_flag("--tokens", o.tokens, "also search per-block token masks");
  cmd.add_flag("--freeze-weights", o.freeze_weights, "train only the masks and LayerNorms");
}

SearchOptions SearchFlags::get(const std::string& out_dir, bool resume, bool quiet) const {
  SearchOptions o = options;
  o.out_dir = out_dir;
  o.resume = resume;
  o.quiet = quiet;
  return o;
}

void ExtractFlags::add_to(CLI::App& cmd) {
  CLI::Option* macs_opt = cmd.add_option(
      "--macs", macs, "MACs target: fraction of the teacher's (0.5, 50%) or absolute (11.1M)");
  cmd.add_option("--budget-attn", extract.fractions.attn, "fraction of attention mask entries kept")
      ->excludes(macs_opt);
  cmd.add_option("--budget-mlp", extract.fractions.mlp, "fraction of MLP mask entries kept")
      ->excludes(macs_opt);
  cmd.add_option("--budget-tokens", extract.tokens,
                 "fraction of token mask entries kept (reported only)");
  cmd.add_flag("--fold", fold,
               "fold the kept soft mask values into the weights (default: they become 1, as the "
               "reference)");
  finetune.add_to(cmd);
}

std::pair<ExtractOptions, FinetuneOptions> ExtractFlags::get(const std::string& out_dir,
                                                             bool resume, bool quiet) const {
  ExtractOptions e = extract;
  if (!macs.empty()) e.macs = parse_macs_target(macs);
  e.fold = fold;
  e.validate();
  const FinetuneOptions f = finetune.get(out_dir, resume, quiet);
  return {e, f};
}

}  // namespace vitc::app
