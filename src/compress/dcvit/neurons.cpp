// Random and importance-based choices of kept MLP neurons.
#include "compress/dcvit/neurons.h"

#include <algorithm>
#include <numeric>

#include <torch/torch.h>

#include "data/random.h"
#include "model/gelu.h"
#include "model/layer_norm_rows.h"
#include "model/linear.h"
#include "util/error.h"

namespace vitc {

NeuronChoice parse_neuron_choice(const std::string& text) {
  if (text == "random") return NeuronChoice::kRandom;
  if (text == "importance") return NeuronChoice::kImportance;
  fail("--neurons: unknown choice '", text, "'; valid values are: random, importance");
}

std::string to_string(NeuronChoice choice) {
  return choice == NeuronChoice::kRandom ? "random" : "importance";
}

namespace {
constexpr uint64_t kNeuronStream = 201;
}

std::vector<int> random_neurons(int hidden, int keep, uint64_t seed, int block) {
  check(keep >= 0 && keep <= hidden, "cannot keep ", keep, " of ", hidden, " MLP neurons");
  const std::vector<int64_t> perm = seeded_permutation(
      hidden, derive_seed({kNeuronStream, seed, static_cast<uint64_t>(block)}));
  std::vector<int> out(perm.begin(), perm.begin() + keep);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<double> neuron_importance(VisionTransformerImpl& model, const ModelMasks& masks,
                                      int block, const Dataset& data, int64_t batch_size) {
  torch::NoGradGuard no_grad;
  const ViTConfig& config = model.config();
  check(block >= 0 && block < config.depth(), "block ", block, " is outside [0, ", config.depth(), ")");
  check(config.blocks[static_cast<size_t>(block)].has_mlp(), "block ", block, " has no MLP");
  check(data.size() > 0, "neuron importance needs at least one image");
  const bool was_training = model.is_training();
  model.eval();
  Block b = model.block(block);
  at::Tensor sum;
  int64_t tokens = 0;
  for (int64_t start = 0; start < data.size(); start += batch_size) {
    std::vector<int64_t> idx;
    for (int64_t i = start; i < std::min(data.size(), start + batch_size); ++i) idx.push_back(i);
    at::Tensor x = model.embed(data.get_batch(idx).images);
    for (int i = 0; i < block; ++i) {
      x = model.block(i)->forward(model.block_input(i, x),
                                  masks.blocks.empty() ? nullptr : &masks.blocks[static_cast<size_t>(i)]);
    }
    x = model.block_input(block, x);
    const at::Tensor h = gelu_of_linear(layer_norm_last_dim(x, *b->norm2), b->mlp->fc1).abs();
    const at::Tensor s = h.sum(at::IntArrayRef{0, 1});
    sum = sum.defined() ? sum + s : s;
    tokens += h.size(0) * h.size(1);
  }
  model.train(was_training);
  const at::Tensor score =
      (sum / static_cast<double>(tokens)) * b->mlp->fc2->weight.norm(2, 0);
  const at::Tensor c = score.to(at::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

std::vector<int> important_neurons(const std::vector<double>& importance, int keep) {
  const int hidden = static_cast<int>(importance.size());
  check(keep >= 0 && keep <= hidden, "cannot keep ", keep, " of ", hidden, " MLP neurons");
  std::vector<int> order(hidden);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int x, int y) { return importance[x] > importance[y]; });
  order.resize(keep);
  std::sort(order.begin(), order.end());
  return order;
}

}  // namespace vitc
