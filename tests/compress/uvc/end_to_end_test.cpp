// UVC end to end on a Fashion-MNIST subset: a briefly trained fm_tiny teacher, a short stage-1
// search, the Structure at 50% of its MACs, slicing and a short distilled stage 2 give a loadable
// compressed model directory whose logits are the masked searched model's, whose MACs are within
// 1% of the budget and whose accuracy is far above chance; the command does the same and refuses
// bad budgets with a clear message.
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "apps/run_vitc.h"
#include "compress/uvc/pipeline.h"
#include "data/fashion_mnist.h"
#include "data/sampling.h"
#include "model/complexity.h"
#include "model/model_dir.h"
#include "model/structure.h"
#include "train/evaluate.h"
#include "util/files.h"
#include "compress/tiny_teacher_test_util.h"
#include "uvc_test_util.h"

namespace vitc {
namespace {

TEST(UvcEndToEnd, SearchStructureFinetuneOnFashionMnist) {
  const auto train = test::fm_subset("train", 9600);
  const auto test = test::fm_subset("test", 1000);
  const test::TinyTeacher tiny = test::train_tiny_teacher(train, test, test::uvc_temp_dir("teacher"));
  VisionTransformer teacher = tiny.model;
  const double teacher_top1 = tiny.top1;
  ASSERT_GT(teacher_top1, 60.0);
  const int64_t teacher_macs = compute_complexity(teacher->config()).macs();

  const std::string out = test::uvc_temp_dir("compact");
  UvcRunOptions options;
  options.search.target = teacher_macs / 2;
  options.search.epochs = 1;
  options.search.max_steps_per_epoch = 80;
  options.search.warmup_epochs = 0.25;
  options.search.lr_warmup_epochs = 0.1;
  options.search.batch_size = 64;
  options.search.out_dir = out + "/search";
  options.search.quiet = true;
  options.finetune.train.epochs = 1;
  options.finetune.train.batch_size = 64;
  options.finetune.train.lr = 5e-4;
  options.finetune.train.warmup_epochs = 0;
  options.finetune.train.max_steps_per_epoch = 100;
  options.finetune.train.out_dir = out;
  options.finetune.train.quiet = true;
  options.finetune.loss.alpha = 0.1;
  const UvcRunResult r =
      run_uvc(teacher, {{"dir", tiny.dir}}, train, test, options);

  // Stage 1 moved the MACs to the budget; the final Structure is within 1% of it.
  const auto& last = r.record["search"]["history"].back();
  EXPECT_NEAR(last["macs_fraction"].get<double>(), 0.5, 0.05);
  EXPECT_NEAR(r.record["result"]["macs"].get<int64_t>(), teacher_macs / 2, teacher_macs / 100);
  EXPECT_LE(r.record["result"]["macs"].get<int64_t>(), teacher_macs / 2);
  EXPECT_LT(r.record["structure"]["slice_check_max_abs_diff"].get<double>(), 1e-4);
  EXPECT_GT(r.record["result"]["top1"].get<double>(), 50.0) << "chance is 10%";
  EXPECT_EQ(r.record["structure"]["per_block"].size(), 4u);

  // The directory loads as a compressed model and evaluates as recorded.
  LoadedModel loaded = load_model_dir(out);
  ASSERT_TRUE(loaded.model_json.contains("structure"));
  const Structure structure = structure_from_json(loaded.model_json["structure"], "model.json");
  EXPECT_EQ(loaded.model->config(), compact_config(teacher->config(), structure));
  EXPECT_NEAR(evaluate(*loaded.model, *test, 500).top1, r.record["result"]["top1"].get<double>(),
              1e-9);

  // The command, on the same teacher (saved by the trainer), with a tiny run; and a bad budget.
  using test_support::run_vitc;
  const std::string cli_out = test::uvc_temp_dir("cli");
  const auto ok = run_vitc("uvc run --teacher " + tiny.dir + " --macs 0.6 --out " +
                           cli_out +
                           " --train-subset 640 --eval-subset 200 --search-epochs 1 "
                           "--search-warmup-epochs 0.2 --search-batch-size 64 --finetune-epochs 1 "
                           "--finetune-batch-size 64 --latency-repeats 1 --quiet");
  ASSERT_EQ(ok.exit_code, 0) << ok.output;
  const nlohmann::json run = read_json(cli_out + "/run.json");
  EXPECT_NEAR(run["result"]["macs_fraction"].get<double>(), 0.6, 0.006);
  EXPECT_TRUE(run.contains("latency"));
  EXPECT_TRUE(run["structure"].contains("per_block"));
  const auto bad = run_vitc("uvc run --teacher " + tiny.dir +
                            " --macs 1.5x --out " + cli_out + "_bad");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.output.find("--macs"), std::string::npos) << bad.output;
  const auto above = run_vitc("uvc run --teacher " + tiny.dir +
                              " --macs 99G --out " + cli_out + "_bad --eval-subset 10");
  EXPECT_EQ(above.exit_code, 1);
  EXPECT_NE(above.output.find("above the teacher"), std::string::npos) << above.output;
  std::filesystem::remove_all(tiny.dir);
  std::filesystem::remove_all(out);
  std::filesystem::remove_all(cli_out);
}

}  // namespace
}  // namespace vitc
