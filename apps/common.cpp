// Shared flag groups and run.json output.
#include "common.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "data/open_dataset.h"
#include "io/image_decode.h"
#include "model/batch_chunks.h"
#include "model/output_guard.h"
#include "util/allocator.h"
#include "util/denormals.h"
#include "util/error.h"
#include "util/files.h"

namespace vitc::app {

void ComputeFlags::add_to(CLI::App& cmd) {
  cmd.add_option("--threads", settings.torch_threads,
                 "torch intra-op threads (0 = one per core; vitc splits its matrix products over "
                 "them, see docs/threads.md)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--blas-threads", settings.blas_threads,
                 "OpenBLAS threads (0 = one per core; 1 is fastest with vitc's own split)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--malloc-reuse", malloc_reuse,
                 "keep freed memory for reuse instead of a fresh mmap per large tensor "
                 "(see docs/slicing_benchmark.md)")
      ->capture_default_str();
  cmd.add_option("--flush-denormals", flush_denormals,
                 "treat subnormal floats (below 1.2e-38) as 0 on CPU: much faster where they "
                 "occur (Swin's masked attention), see src/util/denormals.h")
      ->capture_default_str();
  cmd.add_option("--batch-chunks", batch_chunks,
                 "inference on the CPU by slices of the batch, one per torch thread, each running "
                 "the whole network (0: every operation split over the threads; see "
                 "src/model/batch_chunks.h)")
      ->capture_default_str();
  cmd.add_option("--device", device_flag, "where models run: cpu, cuda or cuda:N")
      ->capture_default_str();
  cmd.add_option("--precision", precision_flag,
                 "fp32, or bf16 autocast (matrix products in bfloat16; weights, gradients and "
                 "optimizer state stay float32)")
      ->capture_default_str();
}

std::string ComputeFlags::apply() const {
  const char* local_rank = std::getenv("LOCAL_RANK");  // set by torchrun
  device_ = parse_device(process_device_name(device_flag, local_rank ? std::atoi(local_rank) : -1));
  const Precision precision = parse_precision(precision_flag);
  set_precision(device_, precision);
  // Before configure_threads, so that torch's intra-op threads inherit the setting.
  const std::string denormals = configure_denormals(flush_denormals);
  set_batch_chunks_enabled(batch_chunks);
  const std::string description =
      str_cat(configure_threads(settings), "; ", configure_allocator(malloc_reuse), "; ", denormals,
              batch_chunks ? "; inference in batch slices" : "; no batch slices", "; device ",
              device_.str(), ", precision ", precision_name(precision));
  std::fprintf(stderr, "threads: %s\n", description.c_str());
  return description;
}

void DataFlags::add_to(CLI::App& cmd, bool train_flags) {
  with_train = train_flags;
  cmd.add_option("--data", data,
                 "data set: fashion-mnist, an image folder (<root>/<class>/<image>.jpg|.png, or "
                 "<root>/train|val/<class>/...) or a .safetensors file with \"images\" and "
                 "\"labels\"")
      ->capture_default_str();
  cmd.add_option("--data-dir", data_dir,
                 "directory of the data set files (default: /usr/share/datasets/fashion-mnist, "
                 "or $VITC_FASHION_MNIST_DIR)");
  if (with_train) {
    cmd.add_option("--train-subset", train_subset,
                   "use a seeded subset of this many training images (0 = all)")
        ->check(CLI::NonNegativeNumber);
    cmd.add_option("--train-per-class", train_per_class,
                   "few-shot: a seeded choice of this many training images of every class "
                   "(0 = all; recorded in run.json)")
        ->check(CLI::NonNegativeNumber);
    cmd.add_option("--train-transform", train_transform,
                   "image folders' training images: deit (random resized crop + flip) or eval")
        ->capture_default_str()
        ->check(CLI::IsMember({"deit", "eval"}));
  }
  cmd.add_option("--eval-subset", eval_subset,
                 "evaluate on a seeded subset of this many test images (0 = all)")
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--eval-per-class", eval_per_class,
                 "evaluate on a seeded choice of this many test images of every class (0 = all)")
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--subset-seed", subset_seed, "seed of the subsets")->capture_default_str();
  cmd.add_flag("--skip-bad-images", skip_bad_images,
               "image folders: decode every chosen image once first and leave out (and list) "
               "those that cannot be read, instead of stopping");
  cmd.add_option("--crop-pct", crop_pct,
                 "image folders: resize the short side to size / crop-pct before the center crop "
                 "(default: the checkpoint's config.json, else 0.875 as DeiT)")
      ->check(CLI::Range(0.05, 1.0));
  cmd.add_option("--decode-threads", decode_threads, "threads decoding images (0 = one per core)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  add_max_image_pixels_option(cmd);
}

void add_overwrite_flag(CLI::App& cmd, bool& overwrite) {
  cmd.add_flag("--overwrite", overwrite,
               "write into --out even though it holds another run's files (they are replaced)");
}

std::string full_command_name(const CLI::App& cmd) {
  const CLI::App* parent = cmd.get_parent();
  const bool nested = parent != nullptr && parent->get_parent() != nullptr;
  return nested ? parent->get_name() + " " + cmd.get_name() : cmd.get_name();
}

void add_max_image_pixels_option(CLI::App& cmd) {
  cmd.add_option_function<uint64_t>(
         "--max-image-pixels", [](const uint64_t& pixels) { set_max_image_pixels(pixels); },
         str_cat("refuse images whose header claims more pixels than this, before decoding them "
                 "(decompression bombs; default ", kDefaultMaxImagePixels, ", as PIL)"))
      ->check(CLI::PositiveNumber);
}

void DataFlags::use_model_preprocess(const nlohmann::json& model_json) {
  if (crop_pct > 0 || !model_json.contains("preprocess")) return;
  const nlohmann::json& p = model_json["preprocess"];
  if (p.is_object() && p.contains("crop_pct") && p["crop_pct"].is_number()) {
    crop_pct = p["crop_pct"].get<double>();
  }
}

std::shared_ptr<const Dataset> DataFlags::open(const std::string& split, const std::vector<double>& mean,
                                               const std::vector<double>& std,
                                               int64_t image_size) const {
  const bool train = split == "train";
  DataChoice choice;
  choice.data = data;
  choice.data_dir = data_dir;
  choice.subset = train ? train_subset : eval_subset;
  choice.per_class = train ? train_per_class : eval_per_class;
  choice.seed = subset_seed;
  choice.skip_bad_images = skip_bad_images;
  choice.crop_pct = crop_pct;
  choice.deit_train_transform = with_train && train_transform == "deit";
  choice.decode_threads = decode_threads;
  OpenedSplit opened = open_dataset(split, choice, mean, std, image_size);
  selections[split] = opened.record;
  return opened.data;
}

nlohmann::json DataFlags::to_json() const {
  nlohmann::json j = {{"data", data},
                      {"data_dir", data_dir.empty() ? std::string("(default)") : data_dir},
                      {"train_subset", train_subset},
                      {"eval_subset", eval_subset},
                      {"subset_seed", subset_seed}};
  if (train_per_class > 0) j["train_per_class"] = train_per_class;
  if (eval_per_class > 0) j["eval_per_class"] = eval_per_class;
  if (data != "fashion-mnist") {
    j["crop_pct"] = crop_pct > 0 ? crop_pct : 0.875;
    j["skip_bad_images"] = skip_bad_images;
    if (with_train) j["train_transform"] = train_transform;
  }
  if (!selections.empty()) j["splits"] = selections;
  return j;
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
  write_json(dir + "/" + kRunJsonFile, run);
  std::fprintf(stderr, "wrote %s/%s\n", dir.c_str(), kRunJsonFile);
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
