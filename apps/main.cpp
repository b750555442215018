// vitc: command-line entry point. Parses, validates, runs one subcommand, and turns any error
// into a message on stderr and a non-zero exit code.
#include <cstdio>
#include <algorithm>
#include <exception>
#include <new>
#include <functional>
#include <utility>

#include <CLI/CLI.hpp>

#include "commands.h"
#include "common.h"
#include "util/error.h"
#include "util/run_info.h"

namespace vitc::app {

// CLI11 answers an unknown (sub)subcommand with a generic "A subcommand is required" or
// "extra arguments": name the word that was wrong and list the valid ones instead. Walks the
// leading non-flag words of the command line down the subcommand tree.
int reject_unknown_subcommand(const CLI::App& app, int argc, char** argv) {
  const std::function<bool(const CLI::App*)> all = [](const CLI::App*) { return true; };
  const CLI::App* level = &app;
  std::string path = "vitc";
  for (int i = 1; i < argc && argv[i][0] != '-'; ++i) {
    const std::vector<const CLI::App*> subs = level->get_subcommands(all);
    if (subs.empty()) break;  // positional arguments of a leaf command, if any
    std::vector<std::string> names;
    const CLI::App* next = nullptr;
    for (const CLI::App* sub : subs) {
      names.push_back(sub->get_name());
      if (sub->get_name() == argv[i]) next = sub;
    }
    if (next == nullptr) {
      std::fprintf(stderr, "error: unknown subcommand '%s' of '%s'; valid subcommands are: %s\n",
                   argv[i], path.c_str(), vitc::join(names).c_str());
      return 2;
    }
    level = next;
    path += " " + next->get_name();
  }
  return 0;
}

}  // namespace vitc::app

int main(int argc, char** argv) {
  CLI::App app{"vitc: compress Vision Transformers (UVC, ViT-Slim, DC-ViT) on LibTorch"};
  app.set_version_flag("--version", vitc::kVitcVersion);
  app.require_subcommand(1);
  vitc::app::remember_command_line(argc, argv);
  vitc::app::Runner run;
  for (const vitc::app::AddCommand add : vitc::app::command_table()) add(app, run);
  if (const int code = vitc::app::reject_unknown_subcommand(app, argc, argv)) return code;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11's own codes (105 for a bad value, 109 for an extra argument...) become the one code
    // the README promises for bad input; --help and --version still exit 0.
    return app.exit(e) == 0 ? 0 : 1;
  }
  try {
    return run();
  } catch (const vitc::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "error (torch): %s\n", e.what_without_backtrace());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "error: out of memory (an input larger than this machine can hold, or a "
                 "batch size or model too large for it)\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
  }
  return 1;
}
