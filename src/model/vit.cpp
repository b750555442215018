// ViT assembly, forward passes and timm-style initialisation.
#include "model/vit.h"

#include <algorithm>

#include <torch/torch.h>

#include "model/batch_chunks.h"
#include "model/layer_norm_rows.h"
#include "model/linear.h"
#include "model/patch_rows.h"
#include "model/token_list.h"
#include "util/compute.h"
#include "util/error.h"

namespace vitc {

PatchEmbedImpl::PatchEmbedImpl(int in_chans, int embed_dim, int patch_size, bool with_norm,
                               double norm_eps) {
  proj = register_module(
      "proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_chans, embed_dim, patch_size)
                                    .stride(patch_size)));
  if (with_norm) {
    norm = register_module(
        "norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({embed_dim}).eps(norm_eps)));
  }
}

at::Tensor PatchEmbedImpl::forward(const at::Tensor& x) {
  // On the CPU in float32, the convolution (kernel = stride, no padding) as patch rows times the
  // flattened kernel (model/patch_rows.h); elsewhere ATen's convolution.
  const at::Tensor& w = proj->weight;
  const int64_t p = w.size(-1);
  const bool by_rows = x.dim() == 4 && x.device().is_cpu() && x.scalar_type() == at::kFloat &&
                       w.device().is_cpu() && w.scalar_type() == at::kFloat &&
                       x.size(1) == w.size(1) && x.size(2) >= p && x.size(3) >= p &&
                       current_precision(c10::Device(c10::kCPU)) == Precision::fp32;
  const at::Tensor tokens =
      by_rows ? linear(patch_rows(x, p), w.reshape({w.size(0), -1}), proj->bias)
              : proj->forward(x).flatten(2).transpose(1, 2);  // [B, h*w, D]
  return norm ? layer_norm_last_dim(tokens, *norm) : tokens;
}

at::Tensor HeadOutputs::combined() const { return dist.defined() ? (cls + dist) / 2 : cls; }

VisionTransformerImpl::VisionTransformerImpl(ViTConfig config) : config_(std::move(config)) {
  config_.validate();
  const int D = config_.embed_dim;
  if (config_.is_t2t()) {
    tokens_to_token = register_module("tokens_to_token", T2TStem(config_));
  } else {
    patch_embed = register_module("patch_embed", PatchEmbed(config_.in_chans, D, config_.patch_size,
                                                            config_.is_swin(), config_.norm_eps));
  }
  if (!config_.is_swin()) cls_token = register_parameter("cls_token", torch::zeros({1, 1, D}));
  if (config_.distilled) dist_token = register_parameter("dist_token", torch::zeros({1, 1, D}));
  if (config_.has_pos_embed()) {
    const at::Tensor positions = torch::zeros({1, config_.pos_embed_rows(), D});
    pos_embed = config_.is_t2t() ? register_buffer("pos_embed", positions)
                                 : register_parameter("pos_embed", positions);
  }
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int i = 0; i < config_.depth(); ++i) {
    blocks->push_back(Block(config_.block_dim(i), config_.blocks[static_cast<size_t>(i)],
                            config_.norm_eps, config_.qkv_bias, config_.layer_scale,
                            config_.block_window(i)));
  }
  if (config_.is_swin()) {
    merges = register_module("merges", torch::nn::ModuleList());
    for (int s = 1; s < config_.num_stages(); ++s) {
      merges->push_back(PatchMerging(D << (s - 1), config_.norm_eps));
    }
  }
  std::vector<int> reaching(static_cast<size_t>(config_.num_patches()));  // patch positions
  for (size_t p = 0; p < reaching.size(); ++p) reaching[p] = static_cast<int>(p);
  for (int i = 0; i < config_.depth(); ++i) {
    const std::vector<int>& kept = config_.blocks[static_cast<size_t>(i)].tokens;
    at::Tensor gather;
    if (!kept.empty() && kept.size() < reaching.size()) {
      const int64_t prefix = config_.num_prefix_tokens();
      std::vector<int64_t> local;
      for (int64_t t = 0; t < prefix; ++t) local.push_back(t);
      for (int64_t r : positions_within(kept, reaching)) local.push_back(prefix + r);
      gather = torch::tensor(local, torch::kLong);
      reaching = kept;
    }
    token_gather_.push_back(gather);
  }
  const int F = config_.final_dim();
  norm = register_module("norm", torch::nn::LayerNorm(
                                     torch::nn::LayerNormOptions({F}).eps(config_.norm_eps)));
  head = register_module("head", torch::nn::Linear(F, config_.num_classes));
  if (config_.distilled) {
    head_dist = register_module("head_dist", torch::nn::Linear(D, config_.num_classes));
  }
}

at::Tensor VisionTransformerImpl::embed(const at::Tensor& images) {
  check(images.dim() == 4 && images.size(1) == config_.in_chans &&
            images.size(2) == config_.img_size && images.size(3) == config_.img_size,
        "model '", config_.name, "' expects images of shape [B, ", config_.in_chans, ", ",
        config_.img_size, ", ", config_.img_size, "], got ", images.sizes());
  const at::Tensor input = images.to(device());
  at::Tensor patches =
      config_.is_t2t() ? tokens_to_token->forward(input) : patch_embed->forward(input);
  if (config_.is_swin()) return patches;
  const int64_t B = patches.size(0);
  if (config_.no_embed_class) patches = patches + pos_embed;  // the patches' positions only
  std::vector<at::Tensor> tokens = {cls_token.expand({B, -1, -1})};
  if (config_.distilled) tokens.push_back(dist_token.expand({B, -1, -1}));
  tokens.push_back(patches);
  const at::Tensor x = torch::cat(tokens, 1);
  return config_.no_embed_class ? x : x + pos_embed;
}

int64_t largest_activation_bytes(const ViTConfig& c) {
  int64_t largest = 0;
  for (int i = 0; i < c.depth(); ++i) {
    const BlockSpec& b = c.blocks[static_cast<size_t>(i)];
    if (b.skip) continue;
    int64_t width = std::max(c.block_dim(i), b.mlp_hidden);
    if (b.has_attention()) {
      width = std::max<int64_t>({width, 2 * b.qk_total() + b.v_total(),
                                 static_cast<int64_t>(b.heads.size()) * c.block_keys(i)});
    }
    largest = std::max(largest, c.block_tokens(i) * width);
  }
  return largest * static_cast<int64_t>(sizeof(float));
}

at::Tensor VisionTransformerImpl::forward_features(const at::Tensor& images,
                                                   const ModelMasks* masks) {
  if (masks != nullptr) {
    check(static_cast<int>(masks->blocks.size()) == config_.depth(), "masks have ",
          masks->blocks.size(), " blocks but model '", config_.name, "' has ", config_.depth());
  }
  if (masks == nullptr && infers_in_batch_chunks(*this, device(), images)) {
    // Inference: each intra-op thread runs the whole network on its slice of the batch.
    return in_batch_chunks(
        images, [this](const at::Tensor& chunk) { return forward_features(chunk); },
        largest_activation_bytes(config_));
  }
  at::Tensor x = embed(images);
  for (int i = 0; i < config_.depth(); ++i) {
    x = block(i)->forward(block_input(i, x), masks != nullptr ? &masks->blocks[i] : nullptr);
  }
  return layer_norm_last_dim(x, *norm);
}

HeadOutputs VisionTransformerImpl::head_outputs(const at::Tensor& tokens) {
  HeadOutputs out;
  if (config_.is_swin()) {  // average pooling of the final tokens
    out.cls = head->forward(tokens.mean(1));
    return out;
  }
  out.cls = head->forward(tokens.select(1, 0));
  if (config_.distilled) out.dist = head_dist->forward(tokens.select(1, 1));
  return out;
}

at::Tensor VisionTransformerImpl::block_input(int i, const at::Tensor& x) {
  if (config_.is_swin()) {
    const int s = config_.stage_of(i);
    if (s == 0 || i != config_.stage_first_block(s)) return x;
    return merges->ptr<PatchMergingImpl>(s - 1)->forward(x, config_.stage_side(s - 1));
  }
  at::Tensor& gather = token_gather_.at(static_cast<size_t>(i));
  if (!gather.defined()) return x;
  if (gather.device() != x.device()) gather = gather.to(x.device());
  return x.index_select(1, gather);
}

HeadOutputs VisionTransformerImpl::forward_heads(const at::Tensor& images,
                                                 const ModelMasks* masks) {
  return head_outputs(forward_features(images, masks));
}

at::Tensor VisionTransformerImpl::forward(const at::Tensor& images, const ModelMasks* masks) {
  if (masks == nullptr && infers_in_batch_chunks(*this, device(), images)) {
    // Inference: each slice runs through the heads as well, so that only its logits are
    // concatenated, not its [B, N, D] features (1.1% of a 30% fm_small model's time).
    return in_batch_chunks(
        images, [this](const at::Tensor& chunk) { return forward(chunk); },
        largest_activation_bytes(config_));
  }
  return forward_heads(images, masks).combined();
}

namespace {

// Truncated normal on [-2 std, 2 std] by resampling, as timm's trunc_normal_.
void trunc_normal_(at::Tensor t, double std, at::Generator& gen) {
  at::NoGradGuard no_grad;
  at::Tensor values = at::normal(0.0, std, t.sizes(), gen);
  for (int round = 0; round < 100; ++round) {
    const at::Tensor bad = values.abs() > 2 * std;
    if (!bad.any().item<bool>()) break;
    values = at::where(bad, at::normal(0.0, std, t.sizes(), gen), values);
  }
  t.copy_(values);
}

// T2T-ViT's fixed position table: row p, column j holds p / 10000^(2 floor(j/2) / D), through
// sin for even j and cos for odd j (computed in double, as the repository does with numpy).
at::Tensor sinusoid_table(int64_t rows, int64_t D) {
  const at::Tensor position = torch::arange(rows, torch::kDouble).unsqueeze(1);
  const at::Tensor pair = torch::floor(torch::arange(D, torch::kDouble) / 2);
  const at::Tensor angle = position / torch::pow(10000.0, 2 * pair / static_cast<double>(D));
  const at::Tensor even = (torch::arange(D) % 2 == 0).unsqueeze(0);
  return torch::where(even, torch::sin(angle), torch::cos(angle)).to(torch::kFloat).unsqueeze(0);
}

}  // namespace

void VisionTransformerImpl::init_weights(uint64_t seed) {
  at::NoGradGuard no_grad;
  at::Generator gen = at::detail::createCPUGenerator(seed);
  if (config_.is_t2t()) {
    pos_embed.copy_(sinusoid_table(pos_embed.size(1), pos_embed.size(2)));
    tokens_to_token->init_random_features(gen);
  } else if (pos_embed.defined()) {
    trunc_normal_(pos_embed, 0.02, gen);
  }
  if (cls_token.defined()) trunc_normal_(cls_token, 0.02, gen);
  if (dist_token.defined()) trunc_normal_(dist_token, 0.02, gen);
  // Patch embedding: PyTorch's default Conv2d init (as timm), drawn from our generator.
  if (patch_embed) {
    auto& w = patch_embed->proj->weight;
    const double fan_in = static_cast<double>(w.numel() / w.size(0));
    const double bound = 1.0 / std::sqrt(fan_in);
    w.copy_(at::empty(w.sizes()).uniform_(-bound, bound, gen));
    patch_embed->proj->bias.copy_(at::empty({w.size(0)}).uniform_(-bound, bound, gen));
  }
  for (auto& module : modules(/*include_self=*/false)) {
    if (auto* linear = module->as<torch::nn::Linear>()) {
      trunc_normal_(linear->weight, 0.02, gen);
      if (linear->bias.defined()) linear->bias.zero_();
    } else if (auto* ln = module->as<torch::nn::LayerNorm>()) {
      ln->weight.fill_(1.0);
      ln->bias.zero_();
    } else if (auto* ls = module->as<LayerScale>()) {
      ls->gamma.fill_(kLayerScaleInit);
    } else if (auto* attention = module->as<Attention>()) {
      if (attention->relative_position_bias_table.defined()) {
        trunc_normal_(attention->relative_position_bias_table, 0.02, gen);
      }
    }
  }
}

VisionTransformer make_model(const ViTConfig& config, uint64_t seed) {
  VisionTransformer model(config);
  model->init_weights(seed);
  return model;
}

}  // namespace vitc
