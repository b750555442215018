// ViT-Slim end to end on a Fashion-MNIST subset: a briefly trained fm_tiny teacher, a short
// search, extraction at 50% of its MACs and a short distilled finetuning give a loadable
// compressed model directory whose logits are the masked searched model's and whose accuracy
// is far above chance.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "compress/slim/pipeline.h"
#include "compress/slim/search.h"
#include "data/fashion_mnist.h"
#include "data/sampling.h"
#include "model/complexity.h"
#include "model/model_dir.h"
#include "model/structure.h"
#include "compress/tiny_teacher_test_util.h"
#include "slim_test_util.h"
#include "train/trainer.h"

namespace vitc {
namespace {

TEST(SlimEndToEnd, SearchExtractFinetuneOnFashionMnist) {
  const auto train = test::fm_subset("train", 9600);
  const auto test = test::fm_subset("test", 1000);
  const test::TinyTeacher tiny = test::train_tiny_teacher(train, test, test::temp_dir("teacher"));
  VisionTransformer teacher = tiny.model;
  const double teacher_top1 = tiny.top1;
  ASSERT_GT(teacher_top1, 60.0);

  SearchOptions search_options;
  search_options.epochs = 1;
  search_options.max_steps_per_epoch = 100;
  search_options.batch_size = 64;
  search_options.lr = 1e-3;
  search_options.out_dir = test::temp_dir("search");
  search_options.quiet = true;
  run_search(*teacher, {{"dir", tiny.dir}}, train, test, search_options);
  const SearchDir search = load_search_dir(search_options.out_dir);

  ExtractOptions extract;
  extract.budget = parse_macs_target("0.5");
  FinetuneOptions finetune;
  finetune.train.epochs = 1;
  finetune.train.batch_size = 64;
  finetune.train.lr = 5e-4;
  finetune.train.warmup_epochs = 0;
  finetune.train.max_steps_per_epoch = 100;
  finetune.train.out_dir = test::temp_dir("compact");
  finetune.train.quiet = true;
  finetune.loss.alpha = 0.5;
  const CompressResult r = compress_from_search(search, teacher, train, test, extract, finetune);

  const int64_t teacher_macs = compute_complexity(teacher->config()).macs();
  EXPECT_NEAR(r.record["result"]["macs"].get<int64_t>(), teacher_macs / 2, teacher_macs / 200);
  EXPECT_LT(r.record["extraction"]["slice_check_max_abs_diff"].get<double>(), 1e-4);
  EXPECT_GT(r.record["result"]["top1"].get<double>(), 50.0) << "chance is 10%";
  EXPECT_NEAR(r.record["teacher"]["top1"].get<double>(), teacher_top1, 1e-9);

  // The directory loads as a compressed model: its Structure, the compact config, the weights.
  LoadedModel loaded = load_model_dir(finetune.train.out_dir);
  ASSERT_TRUE(loaded.model_json.contains("structure"));
  const Structure structure = structure_from_json(loaded.model_json["structure"], "model.json");
  EXPECT_EQ(loaded.model->config(), compact_config(teacher->config(), structure));
  EXPECT_NEAR(evaluate(*loaded.model, *test, 500).top1, r.record["result"]["top1"].get<double>(),
              1e-9);
}

}  // namespace
}  // namespace vitc
