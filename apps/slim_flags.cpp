// Registration and validation of the `vitc slim` flag groups.
#include "slim_flags.h"

#include "setting_flags.h"

namespace vitc::app {

void SearchFlags::add_to(CLI::App& cmd, const std::string& flag_prefix) {
  prefix = flag_prefix;
  add_setting_flags(cmd, options, prefix);
}

SearchOptions SearchFlags::get(const std::string& out_dir, bool resume, bool quiet) const {
  SearchOptions o = options;
  o.out_dir = out_dir;
  o.resume = resume;
  o.quiet = quiet;
  o.validate(prefix);
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
                 "fraction of token mask entries kept; dropped tokens are removed from the "
                 "model (default: with --macs and a token search, tokens share the MACs "
                 "budget's fraction; otherwise every token is kept)");
  cmd.add_flag("--fold", fold,
               "fold the kept soft mask values into the weights (default: they become 1, as the "
               "reference)");
  add_round_to_flag(cmd, extract.round_to);
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
