// `vitc predict`: runs a model on image files / folders or on a safetensors batch and writes the
// logits (safetensors) and the top-5 classes (CSV).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "common.h"
#include "model/output_guard.h"
#include "data/image_folder.h"
#include "data/tensor_file.h"
#include "io/safetensors.h"
#include "model/model_dir.h"
#include "util/error.h"
#include "util/files.h"
#include "util/progress.h"
#include "util/run_info.h"

namespace vitc::app {

namespace {

struct PredictFlags {
  std::string model;
  std::vector<std::string> inputs;
  std::string out;
  std::string class_names;
  int64_t batch_size = 64;
  double crop_pct = 0;
  int decode_threads = 0;
  uint64_t init_seed = 0;
  bool overwrite = false;
  ComputeFlags compute;
};

bool is_safetensors(const std::string& path) {
  return std::filesystem::path(path).extension() == ".safetensors";
}

// One class name per line; the count must match the model's classes.
std::vector<std::string> read_class_names(const std::string& path, int num_classes) {
  std::istringstream in(read_file(path));
  std::vector<std::string> names;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    names.push_back(line);
  }
  while (!names.empty() && names.back().empty()) names.pop_back();
  check(static_cast<int>(names.size()) == num_classes, "'", path, "' has ", names.size(),
        " class names (one per line) but the model predicts ", num_classes, " classes");
  return names;
}

// A CSV field, quoted when it holds a comma, a quote or a line break.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string top_k_csv(const std::vector<std::string>& names_of_inputs, const at::Tensor& logits,
                      const std::vector<std::string>& class_names) {
  const int64_t k = std::min<int64_t>(5, logits.size(1));
  const auto [probs, classes] = logits.softmax(1).topk(k, 1);
  std::ostringstream csv;
  csv << "input";
  for (int64_t r = 1; r <= k; ++r) {
    csv << ",top" << r << "_class";
    if (!class_names.empty()) csv << ",top" << r << "_name";
    csv << ",top" << r << "_prob";
  }
  csv << "\n";
  const auto p = probs.accessor<float, 2>();
  const auto c = classes.accessor<int64_t, 2>();
  for (int64_t i = 0; i < logits.size(0); ++i) {
    csv << csv_field(names_of_inputs[static_cast<size_t>(i)]);
    for (int64_t r = 0; r < k; ++r) {
      csv << "," << c[i][r];
      if (!class_names.empty()) csv << "," << csv_field(class_names[static_cast<size_t>(c[i][r])]);
      char prob[32];
      std::snprintf(prob, sizeof(prob), "%.6f", p[i][r]);
      csv << "," << prob;
    }
    csv << "\n";
  }
  return csv.str();
}

int run_predict(const PredictFlags& flags) {
  const std::string threads = flags.compute.apply();
  check_not_model_dir(flags.out, "--out");
  check_output_dir(flags.out, "predict", /*resume=*/false, flags.overwrite);
  LoadedModel loaded = load_model_spec(flags.model, flags.init_seed);
  loaded.model->to(flags.compute.device());
  VisionTransformerImpl& model = *loaded.model;
  const ViTConfig& config = model.config();
  const std::vector<std::string> class_names =
      flags.class_names.empty() ? std::vector<std::string>{}
                                : read_class_names(flags.class_names, config.num_classes);

  // Inputs: one safetensors batch, or image files and folders.
  const bool tensor_input = flags.inputs.size() == 1 && is_safetensors(flags.inputs[0]);
  for (const std::string& input : flags.inputs) {
    check(tensor_input || !is_safetensors(input), "--input: a .safetensors batch ('", input,
          "') cannot be mixed with other inputs");
  }
  ImageFolderOptions options;
  options.image_size = config.img_size;
  options.channels = config.in_chans;
  options.mean = config.mean;
  options.std = config.std;
  options.crop_pct = flags.crop_pct;
  if (options.crop_pct == 0 && loaded.model_json.contains("preprocess")) {
    options.crop_pct = loaded.model_json["preprocess"].value("crop_pct", 0.0);
  }
  if (options.crop_pct == 0) options.crop_pct = 0.875;
  options.decode_threads = flags.decode_threads;

  std::vector<std::string> names;
  at::Tensor tensor_images;
  if (tensor_input) {
    tensor_images =
        read_tensor_batch(flags.inputs[0], config.in_chans, config.img_size, config.mean, config.std)
            .images;
    for (int64_t i = 0; i < tensor_images.size(0); ++i) names.push_back(str_cat("images[", i, "]"));
  } else {
    names = list_image_files(flags.inputs);
  }
  const int64_t n = static_cast<int64_t>(names.size());
  check(n > 0, "no inputs to predict");
  std::fprintf(stderr, "predict: %s on %lld input(s)\n", loaded.source.c_str(),
               static_cast<long long>(n));

  torch::NoGradGuard no_grad;
  model.eval();
  std::vector<at::Tensor> outputs;
  const int64_t steps = (n + flags.batch_size - 1) / flags.batch_size;
  Progress progress("predict", steps, false);
  Stopwatch clock;
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t begin = s * flags.batch_size, end = std::min(n, begin + flags.batch_size);
    at::Tensor images;
    if (tensor_input) {
      images = tensor_images.narrow(0, begin, end - begin);
    } else {
      images = load_images(std::vector<std::string>(names.begin() + begin, names.begin() + end),
                           options);
    }
    // float32 on the CPU whatever the device and precision (bf16 autocast gives bf16 logits).
    outputs.push_back(model.forward(images).to(at::kCPU, at::kFloat).contiguous());
    progress.update(s + 1, end - begin, {});
  }
  progress.finish({});
  const double seconds = clock.seconds();
  const at::Tensor logits = at::cat(outputs, 0);

  make_dirs(flags.out);
  write_safetensors(flags.out + "/logits.safetensors", {{"logits", logits}},
                    {{"model", loaded.source}, {"inputs", std::to_string(n)}});
  atomic_write_string(flags.out + "/top5.csv", top_k_csv(names, logits, class_names));
  nlohmann::json inputs = flags.inputs;
  write_run_json(flags.out, {{"command", "predict"},
                             {"command_line", command_line()},
                             {"model", {{"source", loaded.source}, {"config", config.name}}},
                             {"inputs", inputs},
                             {"images", n},
                             {"preprocess", tensor_input ? nlohmann::json("none (tensor input)")
                                                         : nlohmann::json({{"crop_pct", options.crop_pct},
                                                                           {"image_size", config.img_size}})},
                             {"environment", environment_json(threads)},
                             {"seconds", seconds},
                             {"images_per_s", seconds > 0 ? n / seconds : 0.0}});
  std::printf("wrote %s/logits.safetensors ([%lld, %d]) and %s/top5.csv; %.1f images/s\n",
              flags.out.c_str(), static_cast<long long>(n), config.num_classes, flags.out.c_str(),
              seconds > 0 ? n / seconds : 0.0);
  return 0;
}

}  // namespace

void add_predict_command(CLI::App& app, Runner& run) {
  auto flags = std::make_shared<PredictFlags>();
  CLI::App* cmd = app.add_subcommand(
      "predict", "run a model on images or a safetensors batch; write logits and top-5 classes");
  cmd->add_option("--model", flags->model,
                  "model directory, timm/DeiT checkpoint (.safetensors, .pth) or config name")
      ->required();
  cmd->add_option("--input", flags->inputs,
                  "image files (JPEG, PNG), folders of them (searched recursively), or one "
                  ".safetensors file with \"images\" [N,C,H,W] (float: model input; uint8: pixels)")
      ->required();
  cmd->add_option("--out", flags->out,
                  "output directory: logits.safetensors, top5.csv, run.json")
      ->required();
  cmd->add_option("--class-names", flags->class_names, "text file: one class name per line");
  add_max_image_pixels_option(*cmd);
  add_overwrite_flag(*cmd, flags->overwrite);
  cmd->add_option("--batch-size", flags->batch_size, "images per forward pass")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--crop-pct", flags->crop_pct,
                  "resize the short side to size / crop-pct before the center crop (default: the "
                  "checkpoint's config.json, else 0.875 as DeiT)")
      ->check(CLI::Range(0.05, 1.0));
  cmd->add_option("--decode-threads", flags->decode_threads,
                  "threads decoding images (0 = one per core)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--init-seed", flags->init_seed, "seed of random weights for a config name")
      ->capture_default_str();
  flags->compute.add_to(*cmd);
  cmd->callback([&run, flags] { run = [flags] { return run_predict(*flags); }; });
}

}  // namespace vitc::app
