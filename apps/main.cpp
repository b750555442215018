// vitc: command-line entry point. Parses, validates, runs one subcommand, and turns any error
// into a message on stderr and a non-zero exit code.
#include <cstdio>
#include <algorithm>
#include <exception>
#include <functional>
#include <utility>

#include <CLI/CLI.hpp>

#include "common.h"
#include "util/error.h"
#include "util/run_info.h"

int main(int argc, char** argv) {
  CLI::App app{"vitc: compress Vision Transformers (UVC, ViT-Slim, DC-ViT) on LibTorch"};
  app.set_version_flag("--version", vitc::kVitcVersion);
  app.require_subcommand(1);
  vitc::app::remember_command_line(argc, argv);
  vitc::app::Runner run;
  vitc::app::add_train_command(app, run);
  vitc::app::add_eval_command(app, run);
  vitc::app::add_info_command(app, run);
  vitc::app::add_bench_command(app, run);
  vitc::app::add_slim_command(app, run);
  vitc::app::add_dcvit_command(app, run);
  vitc::app::add_practise_command(app, run);
  std::vector<std::string> names;
  const std::function<bool(const CLI::App*)> all = [](const CLI::App*) { return true; };
  for (const CLI::App* sub : std::as_const(app).get_subcommands(all)) names.push_back(sub->get_name());
  if (argc > 1 && argv[1][0] != '-' && std::find(names.begin(), names.end(), argv[1]) == names.end()) {
    std::fprintf(stderr, "error: unknown subcommand '%s'; valid subcommands are: %s\n", argv[1],
                 vitc::join(names).c_str());
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    return run();
  } catch (const vitc::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "error (torch): %s\n", e.what_without_backtrace());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
  }
  return 1;
}
