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

void DistFlags::add_to(CLI::App& cmd) {
  cmd.add_option("--dist-world-size", world_size,
                 "number of cooperating processes (default: $WORLD_SIZE, else 1 = no distribution)");
  cmd.add_option("--dist-rank", rank, "this process's rank in [0, world size) (default: $RANK, else 0)");
  cmd.add_option("--dist-master-addr", master_addr,
                 "address of rank 0, which hosts the rendezvous store (default: $MASTER_ADDR, else "
                 "127.0.0.1)");
  cmd.add_option("--dist-master-port", master_port,
                 "TCP port of the rendezvous store (default: $MASTER_PORT, else 29500)");
  cmd.add_option("--dist-timeout", timeout_seconds,
                 "seconds to wait for peers at the rendezvous and in every collective; a missing or "
                 "dead peer fails the run after this")
      ->capture_default_str();
  cmd.add_option("--dist-local-addr", local_addr,
                 "address this process's Gloo device binds to (default: loopback when the master is "
                 "local, else this machine's hostname)");
}

std::shared_ptr<dist::Group> DistFlags::connect() const {
  dist::DistFlagValues values;
  if (rank != -1) values.rank = rank;
  if (world_size != -1) values.world_size = world_size;
  if (master_port != -1) values.master_port = master_port;
  if (!master_addr.empty()) values.master_addr = master_addr;
  if (!local_addr.empty()) values.local_addr = local_addr;
  values.timeout_seconds = timeout_seconds;
  const dist::DistConfig config = dist::resolve_dist_config(values, dist::process_environment());
  if (!config.enabled()) return nullptr;
  std::fprintf(stderr, "dist: rank %d of %d connecting to %s:%d (timeout %g s)\n", config.rank,
               config.world_size, config.master_addr.c_str(), config.master_port, config.timeout_seconds);
  auto group = std::make_shared<dist::Group>(config);
  std::fprintf(stderr, "dist: rank %d of %d connected (gloo)\n", config.rank, config.world_size);
  return group;
}

nlohmann::json DistFlags::to_json(const dist::Group* group) {
  if (group == nullptr) return {{"world_size", 1}};
  const dist::DistConfig& c = group->config();
  return {{"world_size", c.world_size}, {"backend", "gloo"}, {"master_addr", c.master_addr},
          {"master_port", c.master_port}, {"timeout_seconds", c.timeout_seconds}};
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
