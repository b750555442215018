// T2T-ViT's tokens-to-token stem: soft splits, token attentions, projection.
#include "model/families/t2t/t2t_stem.h"

#include <cmath>

#include <torch/torch.h>

#include "model/gelu.h"
#include "model/linear.h"
#include "util/error.h"

namespace vitc {

namespace {

int features_of(int token_dim) { return token_dim / 2; }  // the repository's kernel_ratio 0.5

torch::nn::LayerNormOptions norm_options(int dim, double eps) {
  return torch::nn::LayerNormOptions({dim}).eps(eps);
}

}  // namespace

TokenPerformerImpl::TokenPerformerImpl(int in_dim, int token_dim, double norm_eps) {
  const int m = features_of(token_dim);
  w = register_buffer("w", torch::zeros({m, token_dim}));
  kqv = register_module("kqv", torch::nn::Linear(in_dim, 3 * token_dim));
  proj = register_module("proj", torch::nn::Linear(token_dim, token_dim));
  norm1 = register_module("norm1", torch::nn::LayerNorm(norm_options(in_dim, norm_eps)));
  norm2 = register_module("norm2", torch::nn::LayerNorm(norm_options(token_dim, norm_eps)));
  mlp = register_module("mlp", torch::nn::Sequential(torch::nn::Linear(token_dim, token_dim),
                                                      torch::nn::GELU(),
                                                      torch::nn::Linear(token_dim, token_dim)));
}

at::Tensor TokenPerformerImpl::forward(const at::Tensor& input) {
  const at::Tensor x = norm1->forward(input);
  const int64_t e = proj->weight.size(0), m = w.size(0);
  const auto kqv_out = apply_linear(kqv, x).split(e, -1);
  const at::Tensor &k = kqv_out[0], &q = kqv_out[1], &v = kqv_out[2];
  // Positive random features of the softmax kernel: exp(w^T t - |t|^2 / 2) / sqrt(m).
  const double root_m = std::sqrt(static_cast<double>(m));
  const auto features = [&](const at::Tensor& t) {
    return torch::exp(torch::matmul(t, w.t()) - t.pow(2).sum(-1, true) / 2) / root_m;
  };
  const at::Tensor kp = features(k), qp = features(q);                        // [B, T, m]
  const at::Tensor normaliser = torch::matmul(qp, kp.sum(1).unsqueeze(-1));  // [B, T, 1]
  const at::Tensor kptv = torch::matmul(v.transpose(1, 2), kp);              // [B, e, m]
  const at::Tensor y = torch::matmul(qp, kptv.transpose(1, 2)) / (normaliser + 1e-8);
  const at::Tensor out = v + apply_linear(proj, y);  // v skip connection: the width changes
  return out + mlp->forward(norm2->forward(out));
}

TokenTransformerImpl::TokenTransformerImpl(int in_dim, int token_dim, double norm_eps)
    : scale(1.0 / std::sqrt(static_cast<double>(in_dim))) {
  norm1 = register_module("norm1", torch::nn::LayerNorm(norm_options(in_dim, norm_eps)));
  auto attn = register_module("attn", std::make_shared<torch::nn::Module>("attn"));
  qkv = attn->register_module(
      "qkv", torch::nn::Linear(torch::nn::LinearOptions(in_dim, 3 * token_dim).bias(false)));
  proj = attn->register_module("proj", torch::nn::Linear(token_dim, token_dim));
  norm2 = register_module("norm2", torch::nn::LayerNorm(norm_options(token_dim, norm_eps)));
  auto mlp = register_module("mlp", std::make_shared<torch::nn::Module>("mlp"));
  fc1 = mlp->register_module("fc1", torch::nn::Linear(token_dim, token_dim));
  fc2 = mlp->register_module("fc2", torch::nn::Linear(token_dim, token_dim));
}

at::Tensor TokenTransformerImpl::forward(const at::Tensor& input) {
  const at::Tensor x = norm1->forward(input);
  const int64_t e = proj->weight.size(0);
  const auto qkv_out = apply_linear(qkv, x).split(e, -1);
  const at::Tensor &q = qkv_out[0], &k = qkv_out[1], &v = qkv_out[2];
  const at::Tensor attn = torch::matmul(q * scale, k.transpose(1, 2)).softmax(-1);
  const at::Tensor out = v + apply_linear(proj, torch::matmul(attn, v));
  return out + apply_linear(fc2, gelu_of_linear(norm2->forward(out), fc1));
}

T2TStemImpl::T2TStemImpl(const ViTConfig& config) : spec_(config.t2t) {
  int width = config.in_chans;  // channels of the map entering each split
  for (size_t i = 0; i < spec_.splits.size(); ++i) {
    const int k = spec_.splits[i].kernel;
    const int in_dim = width * k * k;
    if (i + 1 == spec_.splits.size()) {
      project = register_module("project", torch::nn::Linear(in_dim, config.embed_dim));
      break;
    }
    const std::string name = str_cat("attention", i + 1);
    if (spec_.attention == "performer") {
      attentions.push_back(
          register_module(name, TokenPerformer(in_dim, spec_.token_dim, config.norm_eps)));
    } else {
      attentions.push_back(
          register_module(name, TokenTransformer(in_dim, spec_.token_dim, config.norm_eps)));
    }
    width = spec_.token_dim;
  }
}

at::Tensor T2TStemImpl::forward(const at::Tensor& images) {
  namespace F = torch::nn::functional;
  at::Tensor x = images;
  for (size_t i = 0; i < spec_.splits.size(); ++i) {
    const SoftSplit& s = spec_.splits[i];
    if (i > 0) {  // tokens [B, T, C] back to a square map [B, C, side, side]
      const auto side = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(x.size(1)))));
      x = x.transpose(1, 2).reshape({x.size(0), x.size(2), side, side});
    }
    x = F::unfold(x, F::UnfoldFuncOptions({s.kernel, s.kernel})
                         .stride({s.stride, s.stride})
                         .padding({s.padding, s.padding}))
            .transpose(1, 2);
    if (i + 1 == spec_.splits.size()) break;
    if (auto* performer = attentions[i]->as<TokenPerformerImpl>()) {
      x = performer->forward(x);
    } else {
      x = attentions[i]->as<TokenTransformerImpl>()->forward(x);
    }
  }
  return project->forward(x);
}

void T2TStemImpl::init_random_features(at::Generator& gen) {
  torch::NoGradGuard no_grad;
  for (const auto& module : attentions) {
    auto* performer = module->as<TokenPerformerImpl>();
    if (performer == nullptr) continue;
    at::Tensor& w = performer->w;
    // Orthogonal rows (QR of a Gaussian, signs fixed by R's diagonal) times sqrt(m).
    const at::Tensor gaussian = at::normal(0.0, 1.0, {w.size(1), w.size(0)}, gen);
    auto [q, r] = torch::linalg_qr(gaussian);
    q = q * torch::sign(torch::diagonal(r)).unsqueeze(0);
    w.copy_(q.t() * std::sqrt(static_cast<double>(w.size(0))));
  }
}

int64_t t2t_stem_macs(const ViTConfig& config) {
  const T2TStemSpec& spec = config.t2t;
  const std::vector<int> sides = spec.map_sides(config.img_size);
  const int64_t e = spec.token_dim, m = features_of(spec.token_dim);
  int64_t macs = 0, width = config.in_chans;
  for (size_t i = 0; i < spec.splits.size(); ++i) {
    const int64_t k = spec.splits[i].kernel, T = int64_t{sides[i]} * sides[i];
    const int64_t C = width * k * k;
    if (i + 1 == spec.splits.size()) {
      macs += T * C * config.embed_dim;
      break;
    }
    macs += spec.attention == "performer" ? T * (3 * C * e + 4 * e * m + m + 3 * e * e)
                                          : T * (3 * C * e + 2 * T * e + 3 * e * e);
    width = e;
  }
  return macs;
}

int64_t t2t_stem_params(const ViTConfig& config) {
  const T2TStemSpec& spec = config.t2t;
  const int64_t e = spec.token_dim;
  int64_t params = 0, width = config.in_chans;
  for (size_t i = 0; i < spec.splits.size(); ++i) {
    const int64_t k = spec.splits[i].kernel, C = width * k * k;
    if (i + 1 == spec.splits.size()) {
      params += C * config.embed_dim + config.embed_dim;
      break;
    }
    const bool performer = spec.attention == "performer";
    params += 2 * C + 2 * e                        // norm1, norm2
              + C * 3 * e + (performer ? 3 * e : 0)  // kqv (the transformer's qkv has no bias)
              + e * e + e                          // proj
              + 2 * (e * e + e);                   // mlp
    width = e;
  }
  return params;
}

int64_t t2t_stem_fixed(const ViTConfig& config) {
  const T2TStemSpec& spec = config.t2t;
  if (spec.attention != "performer") return 0;
  const int64_t attentions = static_cast<int64_t>(spec.splits.size()) - 1;
  return attentions * features_of(spec.token_dim) * spec.token_dim;
}

}  // namespace vitc
