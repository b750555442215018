// Benchmark: images/s of the DataLoader over Fashion-MNIST's training set (batch 128, pad 2 +
// hflip), median of 3 epochs, with an idle consumer so that the loader itself is measured.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <vector>

#include "bench_main.h"
#include "data/fashion_mnist.h"
#include "data/loader.h"
#include "util/error.h"
#include "util/progress.h"
#include "util/threads.h"

namespace {

struct Result {
  double median_images_per_s = 0;
  int64_t images_per_epoch = 0;
};

Result measure(const std::shared_ptr<const vitc::Dataset>& data, const vitc::LoaderOptions& options,
               int epochs) {
  vitc::DataLoader loader(data, options);
  std::vector<double> rates;
  Result result;
  for (int epoch = 0; epoch < epochs; ++epoch) {
    vitc::Stopwatch watch;
    loader.start_epoch(epoch);
    vitc::Batch batch;
    int64_t images = 0;
    while (loader.next(batch)) images += batch.images.size(0);
    rates.push_back(images / watch.seconds());
    result.images_per_epoch = images;
  }
  std::sort(rates.begin(), rates.end());
  result.median_images_per_s = rates[rates.size() / 2];
  return result;
}

}  // namespace

int main() {
  return vitc::bench::report_errors([] {
    const std::string threads = vitc::configure_threads(vitc::ThreadSettings{});
    vitc::Stopwatch load_watch;
    std::shared_ptr<const vitc::Dataset> data = vitc::load_fashion_mnist("train");
    const double load_s = load_watch.seconds();
    std::printf("loaded %s (%lld images) in %.2fs; %s\n", data->name().c_str(),
                static_cast<long long>(data->size()), load_s, threads.c_str());

    vitc::LoaderOptions options;
    options.batch_size = 128;
    options.augment = vitc::AugmentOptions{2, true};
    const int epochs = 3;
    const Result augmented = measure(data, options, epochs);

    vitc::LoaderOptions plain = options;
    plain.augment = vitc::AugmentOptions{};
    const Result gathered = measure(data, plain, epochs);

    std::printf("  without augmentation (gather only): %.0f images/s\n",
                gathered.median_images_per_s);
    std::printf(
        "data loader: %.0f images/s on Fashion-MNIST train (%lld images/epoch, batch 128, "
        "pad 2 + hflip, shuffled, prefetch thread), median of %d epochs\n",
        augmented.median_images_per_s, static_cast<long long>(augmented.images_per_epoch),
        epochs);
    return 0;
  });
}
