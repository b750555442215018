// Training throughput (images/s) of a model config under several thread settings, measured in
// one process with the settings interleaved, so that the ratios survive a noisy machine.
//   bench_train_throughput [config=fm_small] [batch=128] [steps=10]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "bench_main.h"
#include "model/vit.h"
#include "report/latency.h"
#include "train/adamw.h"
#include "util/error.h"
#include "util/progress.h"
#include "util/threads.h"

int main(int argc, char** argv) {
  return vitc::bench::report_errors([&] {
    using namespace vitc;
    const std::string name = argc > 1 ? argv[1] : "fm_small";
    const int64_t batch = argc > 2 ? std::atoll(argv[2]) : 128;
    const int steps = argc > 3 ? std::atoi(argv[3]) : 10;
    check(batch > 0 && steps > 0, "usage: bench_train_throughput [CONFIG [BATCH [STEPS]]], BATCH and "
          "STEPS positive integers; got batch ", batch, ", steps ", steps);
    const ViTConfig config = named_config(name);
    VisionTransformer model = make_model(config, 0);
    AdamW optimizer(trainable_parameters(*model), AdamWOptions{});
    const at::Tensor x = torch::randn({batch, config.in_chans, config.img_size, config.img_size});
    const at::Tensor y = torch::randint(config.num_classes, {batch});
    const std::vector<ThreadSettings> settings = {{1, 2}, {1, 1}, {2, 1}, {2, 2}};
    std::vector<std::vector<double>> times(settings.size());
    for (int step = 0; step < steps + 1; ++step) {
      for (size_t s = 0; s < settings.size(); ++s) {
        configure_threads(settings[s]);
        Stopwatch clock;
        optimizer.zero_grad();
        torch::cross_entropy_loss(model->forward(x), y).backward();
        optimizer.step(1e-4);
        if (step > 0) times[s].push_back(clock.seconds());  // step 0 of each setting is warm-up
      }
    }
    std::printf("%s, batch %lld, %d timed steps per setting (interleaved), %s\n", name.c_str(),
                static_cast<long long>(batch), steps, blas_description().c_str());
    std::printf("| torch threads | BLAS threads | median step (ms) | images/s |\n|---|---|---|---|\n");
    for (size_t s = 0; s < settings.size(); ++s) {
      const double median = median_of(times[s]);
      std::printf("| %d | %d | %.1f | %.0f |\n", settings[s].torch_threads, settings[s].blas_threads,
                  median * 1e3, batch / median);
    }
    return 0;
  });
}
