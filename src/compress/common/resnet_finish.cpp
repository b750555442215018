// Slice, finetune, evaluate and save a compressed ResNet.
#include "compress/common/resnet_finish.h"

#include "compress/common/resnet_mimic.h"
#include "model/families/resnet/resnet_complexity.h"
#include "model/families/resnet/resnet_model_dir.h"
#include "train/evaluate.h"

namespace vitc {

nlohmann::json resnet_result_json(const EvalResult& eval, const ResNetConfig& source_config,
                                  const ResNetConfig& compact_config) {
  const ResNetCost source = resnet_cost(source_config), compact = resnet_cost(compact_config);
  return {{"top1", eval.top1}, {"top5", eval.top5}, {"loss", eval.loss},
          {"macs", compact.macs}, {"params", compact.params},
          {"macs_fraction", static_cast<double>(compact.macs) / source.macs},
          {"params_fraction", static_cast<double>(compact.params) / source.params}};
}

void save_compressed_resnet(const std::string& dir, ResNetImpl& compact, const ResNetConfig& source,
                            const ResNetStructure& structure, const std::string& compressed_by) {
  save_resnet_dir(dir, compact,
                  {{"structure", resnet_structure_to_json(structure)},
                   {"source_config", resnet_config_to_json(source)},
                   {"compressed_by", compressed_by}});
}

ResNetFinished finish_resnet(ResNet teacher, const FewShotSet& few_shot,
                             const ResNetStructure& structure, const ResNetFinishOptions& options,
                             const Dataset& eval_data, const std::string& out_dir,
                             int64_t eval_batch) {
  const ResNetConfig& config = teacher->config();
  validate_resnet_structure(structure, config);
  teacher->eval();
  ResNet student = slice_resnet(*teacher, structure);
  StageOptions stage;
  stage.dir = out_dir + "/finetune";
  stage.resume = options.resume;
  stage.quiet = options.quiet;
  stage.label = "finetune";
  stage.key = {{"teacher", config.name}, {"structure", resnet_structure_to_json(structure)}};
  const Trainee trainee = resnet_mimic_trainee(student, teacher);
  const nlohmann::json finetune = run_mimic_stage(trainee, few_shot.images, options.mimic, stage);
  student->eval();
  for (auto& p : student->parameters()) p.set_requires_grad(true);
  const EvalResult eval = evaluate(classifier_of(*student), eval_data, eval_batch);
  std::vector<int> dropped;
  std::vector<std::string> names;
  nlohmann::json kept_inner = nlohmann::json::array();
  for (int i = 0; i < config.depth(); ++i) {
    if (!structure.blocks[i].kept) {
      dropped.push_back(i);
      names.push_back(config.block_name(i));
    } else {
      std::vector<size_t> widths;
      for (const auto& k : structure.blocks[i].inner) widths.push_back(k.size());
      kept_inner.push_back({{"block", config.block_name(i)}, {"inner", widths}});
    }
  }
  ResNetFinished finished;
  finished.record = {
      {"dropped", dropped},
      {"dropped_names", names},
      {"kept_inner", kept_inner},
      {"finetune", {{"options", options.mimic.to_json()}, {"result", finetune},
                    {"trained", "stem and every block (fc frozen); BatchNorm in train mode: "
                                "batch statistics, running statistics updated"}}},
      {"result", resnet_result_json(eval, config, student->config())}};
  save_compressed_resnet(out_dir, *student, config, structure, options.method + " + feature mimicking");
  finished.compact = student;
  return finished;
}

}  // namespace vitc
