// L1-norm filter selection for ResNets at a MACs target.
#include "compress/baselines/resnet_l1_filters.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <torch/torch.h>

#include "model/families/resnet/resnet_complexity.h"
#include "util/error.h"

namespace vitc {

ResNetStructure l1_filter_structure(ResNetImpl& model, double keep_fraction) {
  check(keep_fraction > 0 && keep_fraction <= 1, "L1 filter pruning: the kept fraction must be in "
        "(0, 1], got ", keep_fraction);
  torch::NoGradGuard no_grad;
  const ResNetConfig& c = model.config();
  ResNetStructure s = full_resnet_structure(c);
  for (int i = 0; i < c.depth(); ++i) {
    auto convs = model.block(i)->convs();
    for (size_t k = 0; k < s.blocks[i].inner.size(); ++k) {
      const at::Tensor norms = convs[k]->weight.abs().sum({1, 2, 3}).cpu();
      const int width = static_cast<int>(norms.size(0));
      const int keep = std::max(1, static_cast<int>(std::ceil(keep_fraction * width - 1e-9)));
      std::vector<int> order(static_cast<size_t>(width));
      std::iota(order.begin(), order.end(), 0);
      const float* n = norms.data_ptr<float>();
      std::stable_sort(order.begin(), order.end(), [n](int a, int b) { return n[a] > n[b]; });
      order.resize(static_cast<size_t>(keep));
      std::sort(order.begin(), order.end());
      s.blocks[i].inner[k] = order;
    }
  }
  return s;
}

namespace {

int64_t macs_of(ResNetImpl& model, double keep_fraction, ResNetStructure* structure) {
  *structure = l1_filter_structure(model, keep_fraction);
  return resnet_cost(compact_resnet_config(model.config(), *structure)).macs;
}

}  // namespace

L1FilterChoice l1_filters_for_macs(ResNetImpl& model, int64_t target_macs) {
  L1FilterChoice best;
  best.macs = macs_of(model, 1.0, &best.structure);
  if (best.macs <= target_macs) return best;
  ResNetStructure s;
  const int64_t least = macs_of(model, 1e-6, &s);
  check(least <= target_macs, "L1 filter pruning cannot reach ", target_macs, " MACs on '",
        model.config().name, "': with one filter per inner conv it has ", least,
        " MACs (block outputs and the stem stay whole)");
  double lo = 1e-6, hi = 1.0;  // macs(lo) <= target < macs(hi)
  while (hi - lo > 1e-4) {
    const double mid = (lo + hi) / 2;
    if (macs_of(model, mid, &s) <= target_macs) lo = mid; else hi = mid;
  }
  best.keep_fraction = lo;
  best.macs = macs_of(model, lo, &best.structure);
  return best;
}

ResNetL1Run run_resnet_l1_filters(ResNet teacher, const nlohmann::json& teacher_info,
                                  const FewShotSet& few_shot, const Dataset& eval_data,
                                  int64_t target_macs, const ResNetFinishOptions& finish,
                                  const std::string& out_dir, int64_t eval_batch) {
  teacher->eval();
  const L1FilterChoice choice = l1_filters_for_macs(*teacher, target_macs);  // refused before training
  ResNetL1Run run;
  run.teacher_eval = evaluate(classifier_of(*teacher), eval_data, eval_batch);
  const ResNetFinished finished =
      finish_resnet(teacher, few_shot, choice.structure, finish, eval_data, out_dir, eval_batch);
  nlohmann::json teacher_record = teacher_info;
  teacher_record["top1"] = run.teacher_eval.top1;
  teacher_record["eval"] = eval_to_json(run.teacher_eval);
  run.record = finished.record;
  run.record["teacher"] = teacher_record;
  run.record["settings"] = {{"macs_target", target_macs},
                            {"keep_fraction", choice.keep_fraction},
                            {"mimic", finish.mimic.to_json()}};
  run.compact = finished.compact;
  return run;
}

}  // namespace vitc
