// Flags and helpers shared by the vitc subcommands: threads, data sets, run.json.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "data/dataset.h"
#include "dist/group.h"
#include "util/compute.h"
#include "util/threads.h"

namespace vitc::app {

// --threads / --blas-threads / --malloc-reuse / --flush-denormals / --batch-chunks / --device /
// --precision,
// declared once for every subcommand that computes: how the process uses the CPU and memory,
// where models run (cpu or cuda[:N]) and in which precision (fp32, or bf16 autocast:
// util/compute.h).
struct ComputeFlags {
  ThreadSettings settings;
  bool malloc_reuse = true;  // util/allocator.h: saves the page faults of large tensors
  bool flush_denormals = true;  // util/denormals.h: Swin's masked softmax makes subnormals
  bool batch_chunks = true;     // model/batch_chunks.h: CPU inference, a slice per thread
  std::string device_flag = "cpu";
  std::string precision_flag = "fp32";
  void add_to(CLI::App& cmd);
  // Applies them (a clear error for an unavailable device or an unknown precision), prints one
  // line "threads: ...; device D, precision P" to stderr; returns that description for run.json.
  std::string apply() const;
  // The parsed --device (valid after apply()); commands move their models there.
  c10::Device device() const { return device_; }

 private:
  mutable c10::Device device_{c10::kCPU};
};

// --data / --data-dir / --train-subset / --eval-subset: which images a command reads.
// --data is fashion-mnist, an image folder (<root>/<class>/<image>, or with train/ and val/
// splits: docs/real_world.md) or a .safetensors batch ("images" and "labels").
struct DataFlags {
  std::string data = "fashion-mnist";
  std::string data_dir;
  int64_t train_subset = 0;  // 0 = all
  int64_t eval_subset = 0;   // 0 = all
  uint64_t subset_seed = 0;
  int64_t train_per_class = 0;  // few-shot: N seeded images of every class (0 = off)
  int64_t eval_per_class = 0;
  bool skip_bad_images = false;          // image folders: leave unreadable images out
  double crop_pct = 0;                   // image folders: 0 = the model's (sidecar) or 0.875
  std::string train_transform = "deit";  // image folders' training split: deit or eval
  int decode_threads = 0;                // 0 = one per core
  bool with_train = false;
  // What open() chose, per split (subset indices or files, skipped images): for run.json.
  mutable nlohmann::json selections = nlohmann::json::object();
  void add_to(CLI::App& cmd, bool with_train);
  // `image_size` is the model's input side (image folders are cropped to it).
  std::shared_ptr<const Dataset> open(const std::string& split, const std::vector<double>& mean,
                                      const std::vector<double>& std,
                                      int64_t image_size = 224) const;
  // Takes the crop_pct a checkpoint's sidecar recorded (model.json "preprocess") unless
  // --crop-pct was given.
  void use_model_preprocess(const nlohmann::json& model_json);
  nlohmann::json to_json() const;
};

// --overwrite: lets a command write into an --out that holds another run's files
// (model/output_guard.h), declared once for every command that writes a directory.
void add_overwrite_flag(CLI::App& cmd, bool& overwrite);

// "slim run" for `vitc slim run`, "train" for `vitc train`: the name run.json records.
std::string full_command_name(const CLI::App& cmd);

// --max-image-pixels (io/image_decode.h's decompression-bomb limit), for commands that decode
// images; DataFlags adds it.
void add_max_image_pixels_option(CLI::App& cmd);

// --dist-rank / --dist-world-size / --dist-master-addr / --dist-master-port / --dist-timeout /
// --dist-local-addr: which process of a data-parallel run this is (docs/distributed.md). Unset
// flags fall back to torchrun's RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT.
struct DistFlags {
  int rank = -1, world_size = -1, master_port = -1;  // -1 = not given
  std::string master_addr, local_addr;               // "" = not given
  double timeout_seconds = 60;
  void add_to(CLI::App& cmd);
  // Resolves the configuration and, for a world size above 1, connects (bounded by the timeout)
  // and prints "dist: rank r of N ..."; nullptr for a single process.
  std::shared_ptr<dist::Group> connect() const;
  static nlohmann::json to_json(const dist::Group* group);
};

// Writes <dir>/run.json atomically and says where.
void write_run_json(const std::string& dir, const nlohmann::json& run);

// The full command line, remembered by main for run.json.
void remember_command_line(int argc, char** argv);
const std::string& command_line();


}  // namespace vitc::app
