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
  add_budget_flags(cmd, budget, "the extracted model (one keep fraction for attention and MLP)");
  CLI::Option* attn = cmd.add_option("--budget-attn", extract.fractions.attn,
                                     "fraction of attention mask entries kept");
  CLI::Option* mlp =
      cmd.add_option("--budget-mlp", extract.fractions.mlp, "fraction of MLP mask entries kept");
  for (CLI::Option* budget_flag :
       {cmd.get_option("--macs"), cmd.get_option("--params"), cmd.get_option("--latency")}) {
    attn->excludes(budget_flag);
    mlp->excludes(budget_flag);
  }
  cmd.add_option("--budget-tokens", extract.tokens,
                 "fraction of token mask entries kept; dropped tokens are removed from the "
                 "model (default: with --macs or --latency and a token search, tokens share the "
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
  if (budget.given()) {
    e.budget = parse_budget_flags(budget);
    e.tolerance = budget.tolerance;
  }
  e.fold = fold;
  e.validate();
  const FinetuneOptions f = finetune.get(out_dir, resume, quiet);
  return {e, f};
}

}  // namespace vitc::app
