// Few-shot subsets and the label-hiding view.
#include "compress/common/few_shot.h"

#include <nlohmann/json.hpp>

#include "data/sampling.h"
#include "util/error.h"

namespace vitc {

void FewShotOptions::validate() const {
  check(per_class >= 0, "--per-class must be >= 0, got ", per_class);
  check(total >= 0, "--few-shot must be >= 0, got ", total);
  check((per_class > 0) != (total > 0),
        "give exactly one of --per-class N (images per class) and --few-shot N (images in "
        "total); got --per-class ",
        per_class, " and --few-shot ", total);
}

nlohmann::json FewShotOptions::to_json() const {
  return {{"per_class", per_class}, {"total", total}, {"seed", seed}};
}

nlohmann::json FewShotSet::to_json() const {
  return {{"count", indices.size()}, {"source", images->name()}, {"indices", indices}};
}

namespace {

class HiddenLabels : public Dataset {
 public:
  explicit HiddenLabels(std::shared_ptr<const Dataset> parent) : parent_(std::move(parent)) {}
  int64_t size() const override { return parent_->size(); }
  int num_classes() const override { return parent_->num_classes(); }
  std::string name() const override { return parent_->name() + " (labels hidden)"; }
  Batch get_batch(const std::vector<int64_t>& indices) const override {
    Batch batch = parent_->get_batch(indices);
    batch.labels = at::zeros_like(batch.labels);
    return batch;
  }
  at::Tensor labels() const override { return at::zeros({size()}, at::kLong); }
  double fill_value() const override { return parent_->fill_value(); }

 private:
  std::shared_ptr<const Dataset> parent_;
};

}  // namespace

std::shared_ptr<const Dataset> hide_labels(std::shared_ptr<const Dataset> data) {
  return std::make_shared<HiddenLabels>(std::move(data));
}

FewShotSet sample_few_shot(const std::shared_ptr<const Dataset>& data,
                           const FewShotOptions& options) {
  options.validate();
  FewShotSet set;
  if (options.per_class > 0) {
    set.indices = sample_per_class(*data, options.per_class, options.seed);
  } else {
    check(options.total <= data->size(), "--few-shot ", options.total, " is more than the ",
          data->size(), " images of ", data->name());
    set.indices = sample_subset(*data, options.total, options.seed);
  }
  set.images = hide_labels(make_subset(data, set.indices));
  return set;
}

}  // namespace vitc
