// Subset sampling on top of data/random.h so that the same seed picks the same images anywhere.
#include "data/sampling.h"

#include <algorithm>
#include <random>

#include "data/random.h"
#include "util/error.h"

namespace vitc {

std::vector<int64_t> sample_subset(const Dataset& data, int64_t count, uint64_t seed) {
  const int64_t n = data.size();
  check(count >= 0 && count <= n, "cannot sample ", count, " images from ", data.name(),
        ", which has ", n, "; expected 0 <= count <= ", n);
  std::vector<int64_t> order =
      seeded_permutation(n, derive_seed({static_cast<uint64_t>(RandomStream::kSubset), seed}));
  order.resize(static_cast<size_t>(count));
  std::sort(order.begin(), order.end());
  return order;
}

std::vector<int64_t> sample_per_class(const Dataset& data, int64_t per_class, uint64_t seed) {
  check(per_class >= 0, "cannot sample ", per_class, " images per class from ", data.name(),
        "; expected a count >= 0");
  const int classes = data.num_classes();
  const at::Tensor labels = data.labels().to(at::kLong).contiguous();
  check(labels.dim() == 1 && labels.size(0) == data.size(), data.name(),
        ": labels() must be [", data.size(), "], got ", labels.sizes());
  const int64_t* label = labels.data_ptr<int64_t>();

  std::vector<std::vector<int64_t>> members(static_cast<size_t>(classes));
  for (int64_t i = 0; i < labels.size(0); ++i) {
    check(label[i] >= 0 && label[i] < classes, data.name(), ": image ", i, " has label ",
          label[i], "; expected 0 <= label < ", classes);
    members[static_cast<size_t>(label[i])].push_back(i);
  }
  std::vector<int64_t> chosen;
  chosen.reserve(static_cast<size_t>(per_class) * static_cast<size_t>(classes));
  for (int c = 0; c < classes; ++c) {
    auto& list = members[static_cast<size_t>(c)];
    check(static_cast<int64_t>(list.size()) >= per_class, "cannot sample ", per_class,
          " images per class from ", data.name(), ": class ", c, " has only ", list.size());
    // One stream per class: a class's choice does not depend on the sizes of the others.
    std::mt19937_64 rng(derive_seed({static_cast<uint64_t>(RandomStream::kPerClass), seed,
                                     static_cast<uint64_t>(c)}));
    seeded_shuffle(list, rng);
    chosen.insert(chosen.end(), list.begin(), list.begin() + per_class);
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

}  // namespace vitc
