// Shared flag groups and run.json output.
#include "common.h"

#include <cstdio>

#include "data/fashion_mnist.h"
#include "data/sampling.h"
#include "util/allocator.h"
#include "util/error.h"
#include "util/files.h"

namespace vitc::app {

void ThreadFlags::add_to(CLI::App& cmd) {
  cmd.add_option("--threads", settings.torch_threads,
                 "torch intra-op threads (1 is fastest on 2 cores with OpenBLAS, see docs/threads.md)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd.add_option("--blas-threads", settings.blas_threads, "OpenBLAS threads (0 = one per core)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--malloc-reuse", malloc_reuse,
                 "keep freed memory for reuse instead of a fresh mmap per large tensor "
                 "(see docs/slicing_benchmark.md)")
      ->capture_default_str();
}

std::string ThreadFlags::apply() const {
  const std::string description =
      str_cat(configure_threads(settings), "; ", configure_allocator(malloc_reuse));
  std::fprintf(stderr, "threads: %s\n", description.c_str());
  return description;
}

void DataFlags::add_to(CLI::App& cmd, bool with_train) {
  cmd.add_option("--data", data, "data set: fashion-mnist")->capture_default_str();
  cmd.add_option("--data-dir", data_dir,
                 "directory of the data set files (default: /usr/share/datasets/fashion-mnist, "
                 "or $VITC_FASHION_MNIST_DIR)");
  if (with_train) {
    cmd.add_option("--train-subset", train_subset,
                   "use a seeded subset of this many training images (0 = all)")
        ->check(CLI::NonNegativeNumber);
  }
  cmd.add_option("--eval-subset", eval_subset,
                 "evaluate on a seeded subset of this many test images (0 = all)")
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--subset-seed", subset_seed, "seed of the subsets")->capture_default_str();
}

std::shared_ptr<const Dataset> DataFlags::open(const std::string& split, const std::vector<double>& mean,
                                               const std::vector<double>& std) const {
  check(data == "fashion-mnist", "unknown data set '", data, "'; valid values are: fashion-mnist");
  check(mean.size() == 1 && std.size() == 1, "fashion-mnist has 1 channel but the model expects ",
        mean.size());
  std::shared_ptr<const Dataset> full = load_fashion_mnist(split, data_dir, mean[0], std[0]);
  const int64_t subset = split == "train" ? train_subset : eval_subset;
  if (subset == 0 || subset >= full->size()) return full;
  return make_subset(full, sample_subset(*full, subset, subset_seed));
}

nlohmann::json DataFlags::to_json() const {
  return {{"data", data},
          {"data_dir", data_dir.empty() ? std::string("(default)") : data_dir},
          {"train_subset", train_subset},
          {"eval_subset", eval_subset},
          {"subset_seed", subset_seed}};
}

void write_run_json(const std::string& dir, const nlohmann::json& run) {
  make_dirs(dir);
  write_json(dir + "/run.json", run);
  std::fprintf(stderr, "wrote %s/run.json\n", dir.c_str());
}

namespace {
std::string& stored_command_line() {
  static std::string line;
  return line;
}
}  // namespace

void remember_command_line(int argc, char** argv) {
  std::string& line = stored_command_line();
  line.clear();
  for (int i = 0; i < argc; ++i) {
    if (i) line += ' ';
    line += argv[i];
  }
}

const std::string& command_line() { return stored_command_line(); }

}  // namespace vitc::app
