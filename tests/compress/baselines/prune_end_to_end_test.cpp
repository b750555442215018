// A baseline end to end on a Fashion-MNIST subset: a briefly trained fm_tiny teacher, magnitude
// pruning to 50% of its MACs and a short distilled finetuning give a loadable compressed model
// directory, within 1% of the budget, whose logits before finetuning are the teacher's under
// the Structure's masks, and whose accuracy is far above chance.
#include <filesystem>

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include "compress/baselines/prune_pipeline.h"
#include "compress/tiny_teacher_test_util.h"
#include "data/fashion_mnist.h"
#include "data/sampling.h"
#include "model/complexity.h"
#include "model/model_dir.h"
#include "model/slice.h"
#include "model/structure_masks.h"
#include "train/evaluate.h"
#include "train/trainer.h"

namespace vitc {
namespace {

std::string temp_dir(const std::string& name) { return test::process_temp_dir("prune", name); }

TEST(PruneEndToEnd, MagnitudePruneAndFinetuneOnFashionMnist) {
  const auto train = test::fm_subset("train", 9600);
  const auto test = test::fm_subset("test", 1000);
  const test::TinyTeacher tiny = test::train_tiny_teacher(train, test, temp_dir("teacher"));
  VisionTransformer teacher = tiny.model;
  const double teacher_top1 = tiny.top1;
  ASSERT_GT(teacher_top1, 60.0);
  teacher->eval();

  FinetuneOptions finetune;
  finetune.train.epochs = 1;
  finetune.train.batch_size = 64;
  finetune.train.lr = 5e-4;
  finetune.train.warmup_epochs = 0;
  finetune.train.max_steps_per_epoch = 100;
  finetune.train.out_dir = temp_dir("pruned");
  finetune.train.quiet = true;
  finetune.loss.alpha = 0.5;
  UniformPruneOptions prune;
  prune.criterion = PruneCriterion::kMagnitude;
  const PruneResult result = prune_and_finetune(teacher, parse_macs_target("0.5"), prune, train,
                                                test, finetune);

  // The budget, and the slicing contract on the pruned (not yet finetuned) structure.
  const Structure structure =
      structure_from_json(result.record["structure"], "run record");
  const int64_t teacher_macs = compute_complexity(teacher->config()).macs();
  const int64_t macs = result.record["result"]["macs"].get<int64_t>();
  EXPECT_LE(std::abs(static_cast<double>(macs) / teacher_macs - 0.5), 0.005);
  {
    torch::NoGradGuard no_grad;
    const at::Tensor images = test->get_batch({0, 1, 2, 3, 4, 5, 6, 7}).images;
    VisionTransformer sliced = slice_model(*teacher, structure);
    sliced->eval();
    const ModelMasks masks = structure_masks(teacher->config(), structure);
    EXPECT_LT((sliced->forward(images) - teacher->forward(images, &masks)).abs().max().item<double>(),
              1e-4);
  }
  // The directory loads back as the finetuned compact model.
  LoadedModel loaded = load_model_dir(finetune.train.out_dir);
  EXPECT_EQ(compute_complexity(loaded.model->config()).macs(), macs);
  const EvalResult reloaded = evaluate(*loaded.model, *test, 256);
  EXPECT_NEAR(reloaded.top1, result.record["result"]["top1"].get<double>(), 1e-9);
  EXPECT_GT(reloaded.top1, 40.0);  // chance is 10%
  std::filesystem::remove_all(tiny.dir);
  std::filesystem::remove_all(finetune.train.out_dir);
}

}  // namespace
}  // namespace vitc
