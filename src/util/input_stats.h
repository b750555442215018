// Per-channel input statistics (of pixels scaled to [0,1]) that models record with their config
// and data pipelines normalise with: declared once here.
#pragma once

#include <string>
#include <vector>

namespace vitc {

// Fashion-MNIST's training pixels (one channel).
inline constexpr double kFashionMnistMean = 0.2860;
inline constexpr double kFashionMnistStd = 0.3530;

// ImageNet's (timm's IMAGENET_DEFAULT_MEAN / _STD), the default of RGB checkpoints.
inline const std::vector<double>& imagenet_mean() {
  static const std::vector<double> mean = {0.485, 0.456, 0.406};
  return mean;
}
inline const std::vector<double>& imagenet_std() {
  static const std::vector<double> std = {0.229, 0.224, 0.225};
  return std;
}

// Throws vitc::Error (prefixed with `who`) unless mean and std hold one finite value per input
// channel and every std is positive.
void check_input_stats(const std::vector<double>& mean, const std::vector<double>& std,
                       int in_chans, const std::string& who);

}  // namespace vitc
