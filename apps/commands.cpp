// The table of vitc's subcommands, in --help order. Adding a command (a method's, say) is one
// declaration and one entry here plus its own cmd_<name>.cpp, which apps/CMakeLists.txt picks up.
#include "commands.h"

namespace vitc::app {

void add_train_command(CLI::App& app, Runner& run);
void add_eval_command(CLI::App& app, Runner& run);
void add_info_command(CLI::App& app, Runner& run);
void add_bench_command(CLI::App& app, Runner& run);
void add_slim_command(CLI::App& app, Runner& run);
void add_prune_command(CLI::App& app, Runner& run);
void add_experiment_command(CLI::App& app, Runner& run);
void add_predict_command(CLI::App& app, Runner& run);
void add_import_command(CLI::App& app, Runner& run);
void add_uvc_command(CLI::App& app, Runner& run);
void add_dcvit_command(CLI::App& app, Runner& run);
void add_practise_command(CLI::App& app, Runner& run);

const std::vector<AddCommand>& command_table() {
  static const std::vector<AddCommand> table = {
      add_train_command,   add_eval_command,   add_info_command,       add_bench_command,
      add_slim_command,    add_prune_command,  add_experiment_command, add_predict_command,
      add_import_command,  add_uvc_command,    add_dcvit_command,      add_practise_command,
  };
  return table;
}

}  // namespace vitc::app
