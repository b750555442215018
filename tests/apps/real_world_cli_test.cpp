// The real-world inputs and outputs end to end through the `vitc` binary: predict on image
// folders and safetensors batches (logits + top-5 CSV), eval on an image folder with a corrupt
// file (stop by path, or --skip-bad-images), eval on a tensor file, few-shot training recorded in
// run.json, import of a timm checkpoint, and bench on real images.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "io/image_test_util.h"
#include "io/safetensors.h"
#include "model/model_dir.h"
#include "model/state_dict.h"
#include "run_vitc.h"
#include "util/files.h"

namespace vitc {
namespace {

using namespace vitc::testing;
using vitc::test_support::Outcome;
using vitc::test_support::run_vitc;

// <root>/{shirt,shoe}/: 3 images each, 28x28 and other sizes, gray and RGB, PNG and JPEG;
// with `corrupt`, shoe/bad.jpg is a truncated JPEG.
std::string make_images(const std::string& name, bool corrupt) {
  const std::string root = fresh_dir("cli_" + name);
  for (const std::string cls : {"shirt", "shoe"}) {
    std::filesystem::create_directories(root + "/" + cls);
    const int seed = cls == "shirt" ? 1 : 2;
    write_png(root + "/" + cls + "/a.png", 28, 28, PNG_COLOR_TYPE_GRAY, 8, gradient(28, 28, 1, seed));
    write_jpeg(root + "/" + cls + "/b.jpg", 40, 32, 3, gradient(40, 32, 3, seed));
    write_png(root + "/" + cls + "/c.png", 30, 50, PNG_COLOR_TYPE_RGB, 8, gradient(30, 50, 3, seed));
  }
  if (corrupt) {
    write_jpeg(root + "/shoe/bad.jpg", 32, 32, 3, gradient(32, 32, 3));
    const std::string bytes = read_bytes(root + "/shoe/bad.jpg");
    write_bytes(root + "/shoe/bad.jpg", bytes.substr(0, bytes.size() / 2));
  }
  return root;
}

int count_lines(const std::string& path) {
  std::ifstream in(path);
  int n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

TEST(RealWorldCli, PredictOnImagesWritesLogitsAndTop5) {
  const std::string images = make_images("predict", false);
  const std::string out = fresh_dir("cli_predict_out");
  const Outcome o = run_vitc("predict --model fm_tiny --input " + images + " --out " + out +
                             " --batch-size 4 --decode-threads 2");
  ASSERT_EQ(o.exit_code, 0) << o.output;
  const at::Tensor logits = read_safetensors(out + "/logits.safetensors").tensors.at("logits");
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{6, 10}));
  EXPECT_EQ(count_lines(out + "/top5.csv"), 7);
  const std::string csv = read_bytes(out + "/top5.csv");
  EXPECT_EQ(csv.rfind("input,top1_class,top1_prob,top2_class", 0), 0u) << csv;
  EXPECT_NE(csv.find(images + "/shoe/c.png,"), std::string::npos) << csv;
  EXPECT_TRUE(file_exists(out + "/run.json"));
}

TEST(RealWorldCli, PredictOnATensorBatchGivesTheModelsLogits) {
  const std::string dir = fresh_dir("cli_predict_tensor");
  const at::Tensor images = at::randn({5, 1, 28, 28});
  write_safetensors(dir + "/batch.safetensors", {{"images", images}});
  std::ofstream(dir + "/names.txt") << "t-shirt\nTrouser\npullover\ndress\ncoat\nsandal\nshirt\n"
                                       "sneaker\nbag\n\"boot, ankle\"\n";
  const Outcome o = run_vitc("predict --model fm_tiny --init-seed 3 --input " + dir +
                             "/batch.safetensors --class-names " + dir + "/names.txt --out " + dir + "/out");
  ASSERT_EQ(o.exit_code, 0) << o.output;
  VisionTransformer model = load_model_spec("fm_tiny", 3).model;
  torch::NoGradGuard no_grad;
  model->eval();
  const at::Tensor expected = model->forward(images);
  const at::Tensor got = read_safetensors(dir + "/out/logits.safetensors").tensors.at("logits");
  EXPECT_TRUE(got.allclose(expected, 1e-5, 1e-5));
  const std::string csv = read_bytes(dir + "/out/top5.csv");
  EXPECT_NE(csv.find("top1_name"), std::string::npos);
  EXPECT_NE(csv.find("images[4],"), std::string::npos);
  // A wrong number of class names is an error naming the file.
  std::ofstream(dir + "/few.txt") << "a\nb\n";
  const Outcome bad = run_vitc("predict --model fm_tiny --input " + dir + "/batch.safetensors " +
                               "--class-names " + dir + "/few.txt --out " + dir + "/out2");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.output.find("few.txt"), std::string::npos) << bad.output;
}

TEST(RealWorldCli, EvalStopsAtACorruptImageOrSkipsIt) {
  const std::string images = make_images("eval", true);
  const Outcome stop = run_vitc("eval --model fm_tiny --data " + images);
  EXPECT_EQ(stop.exit_code, 1);
  EXPECT_NE(stop.output.find("shoe/bad.jpg"), std::string::npos) << stop.output;
  EXPECT_NE(stop.output.find("--skip-bad-images"), std::string::npos) << stop.output;

  const std::string json = fresh_dir("cli_eval_json") + "/eval.json";
  const Outcome skip =
      run_vitc("eval --model fm_tiny --data " + images + " --skip-bad-images --json " + json);
  ASSERT_EQ(skip.exit_code, 0) << skip.output;
  EXPECT_NE(skip.output.find("skipped"), std::string::npos) << skip.output;
  EXPECT_NE(skip.output.find("(6 images)"), std::string::npos) << skip.output;
  const nlohmann::json j = read_json(json);
  EXPECT_EQ(j["data"]["splits"]["test"]["skipped_images"].size(), 1u) << j.dump(2);
  EXPECT_EQ(j["result"]["images"], 6);
}

TEST(RealWorldCli, EvalOnATensorFileAndFewShotTrainingRecordsTheChoice) {
  const std::string dir = fresh_dir("cli_tensor_eval");
  write_safetensors(dir + "/val.safetensors",
                    {{"images", at::randn({6, 1, 28, 28})},
                     {"labels", at::tensor(std::vector<int64_t>{0, 1, 2, 3, 4, 5})}});
  const Outcome e = run_vitc("eval --model fm_tiny --data " + dir + "/val.safetensors");
  ASSERT_EQ(e.exit_code, 0) << e.output;
  EXPECT_NE(e.output.find("(6 images)"), std::string::npos) << e.output;

  const std::string images = make_images("few_shot", false);
  const std::string out = dir + "/train";
  const Outcome t = run_vitc("train --model fm_tiny --data " + images +
                             " --train-per-class 2 --subset-seed 4 --epochs 1 --batch-size 4 "
                             "--quiet --out " + out);
  ASSERT_EQ(t.exit_code, 0) << t.output;
  const nlohmann::json run = read_json(out + "/run.json");
  const nlohmann::json& train = run["data"]["splits"]["train"];
  EXPECT_EQ(train["per_class"], 2);
  EXPECT_EQ(train["seed"], 4);
  EXPECT_EQ(train["files"].size(), 4u) << train.dump(2);
  EXPECT_EQ(train["transform"], "deit train: random resized crop + flip");
  // The same seed picks the same images again.
  const Outcome again = run_vitc("train --model fm_tiny --data " + images +
                                 " --train-per-class 2 --subset-seed 4 --epochs 1 --batch-size 4 "
                                 "--quiet --out " + dir + "/train2");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(read_json(dir + "/train2/run.json")["data"]["splits"]["train"]["files"], train["files"]);
}

TEST(RealWorldCli, ImportPredictAndBenchATimmCheckpoint) {
  const std::string dir = fresh_dir("cli_import");
  VisionTransformer model =
      make_model(make_uniform_config("c", 32, 8, 3, 4, 64, 2, 1, 2.0, false), 5);
  write_safetensors(dir + "/model.safetensors", state_dict(*model));
  const Outcome imported = run_vitc("import --model " + dir + "/model.safetensors --out " + dir + "/vitc");
  ASSERT_EQ(imported.exit_code, 0) << imported.output;
  EXPECT_NE(imported.output.find("2 blocks, width 64, 1 heads, 4 classes"), std::string::npos)
      << imported.output;
  EXPECT_TRUE(load_model_dir(dir + "/vitc").model);
  EXPECT_EQ(run_vitc("import --model " + dir + " --out " + dir).exit_code, 1);

  const std::string images = make_images("bench", false);
  const Outcome bench = run_vitc("bench --model " + dir + "/model.safetensors --input " + images +
                                 " --batch-sizes 2 --warmup 0 --repeats 1");
  ASSERT_EQ(bench.exit_code, 0) << bench.output;
  EXPECT_NE(bench.output.find("decoded 2 image(s)"), std::string::npos) << bench.output;
  const Outcome predict = run_vitc("predict --model " + dir + "/vitc --input " + images +
                                   "/shirt/b.jpg --out " + dir + "/p");
  ASSERT_EQ(predict.exit_code, 0) << predict.output;
  EXPECT_EQ(count_lines(dir + "/p/top5.csv"), 2);  // 4 classes: top-4 columns, one row

  const Outcome unsupported = run_vitc("eval --model " + dir + "/nothing.pth --data " + images);
  EXPECT_EQ(unsupported.exit_code, 1);
}

}  // namespace
}  // namespace vitc
