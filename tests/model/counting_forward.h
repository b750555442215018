// An independent count of a ViT's multiply-adds: a forward pass written op by op with the model's
// weights, adding up m*n*k of every matmul it performs from the runtime tensor shapes (token
// drops included). Its logits must equal the model's, so it counts what the model computes.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/vit.h"

namespace vitc::test {

// Every multiply-add goes through mm(), which counts batch * m * k * n from the operands.
struct CountingForward {
  int64_t macs = 0;

  // a [..., m, k] @ b [k, n] or a [B, m, k] @ b [B, k, n].
  at::Tensor mm(const at::Tensor& a, const at::Tensor& b) {
    EXPECT_EQ(a.size(-1), b.size(-2));
    EXPECT_TRUE(b.dim() == 2 || b.dim() == a.dim());
    macs += a.numel() * b.size(-1);
    return torch::matmul(a, b);
  }

  at::Tensor linear(const at::Tensor& x, const torch::nn::Linear& l) {
    const at::Tensor y = mm(x, l->weight.t());
    return l->bias.defined() ? y + l->bias : y;
  }

  static at::Tensor norm(const at::Tensor& x, const torch::nn::LayerNorm& n) {
    return torch::layer_norm(x, {x.size(-1)}, n->weight, n->bias, n->options.eps());
  }

  // Heads one at a time (not grouped as the model does), sliced out of the qkv output. `bias`
  // (Swin): [heads, N, N] added to the scores.
  at::Tensor attention(const at::Tensor& x, AttentionImpl& attn, const at::Tensor& bias = {}) {
    const at::Tensor qkv = linear(x, attn.qkv);
    int64_t qk_total = 0;
    for (const HeadSpec& h : attn.heads()) qk_total += h.qk_dim;
    std::vector<at::Tensor> outs;
    int64_t q_off = 0, v_off = 0, head = 0;
    for (const HeadSpec& h : attn.heads()) {
      const at::Tensor q = qkv.narrow(-1, q_off, h.qk_dim);
      const at::Tensor k = qkv.narrow(-1, qk_total + q_off, h.qk_dim);
      const at::Tensor v = qkv.narrow(-1, 2 * qk_total + v_off, h.v_dim);
      at::Tensor scores = mm(q, k.transpose(1, 2)) * attn.scale();
      if (bias.defined()) scores = scores + bias[head++];
      scores = scores.softmax(-1);
      outs.push_back(mm(scores, v));
      q_off += h.qk_dim;
      v_off += h.v_dim;
    }
    return linear(torch::cat(outs, -1), attn.proj);
  }

  // Swin: window by window, each window's tokens listed by their place on the shifted grid
  // (shifted coordinates (r, c) hold the token at ((r + shift) % side, (c + shift) % side)), the
  // relative position bias looked up per (query, key) offset and -100 between tokens of different
  // regions of the shifted grid.
  at::Tensor window_attention(const at::Tensor& y, AttentionImpl& attn, const AttentionWindow& w) {
    const int64_t side = w.side, win = w.window, shift = w.shift, n = win * win;
    const int64_t heads = static_cast<int64_t>(attn.heads().size());
    const at::Tensor& table = attn.relative_position_bias_table;
    const auto region = [&](int64_t r) {
      return shift == 0 ? 0 : r < side - win ? 0 : r < side - shift ? 1 : 2;
    };
    at::Tensor out;
    for (int64_t a = 0; a < side / win; ++a) {
      for (int64_t b = 0; b < side / win; ++b) {
        std::vector<int64_t> rows, cols, tokens;
        for (int64_t r = a * win; r < (a + 1) * win; ++r) {
          for (int64_t c = b * win; c < (b + 1) * win; ++c) {
            rows.push_back(r);
            cols.push_back(c);
            tokens.push_back(((r + shift) % side) * side + (c + shift) % side);
          }
        }
        at::Tensor bias = torch::zeros({heads, n, n});
        for (int64_t i = 0; i < n; ++i) {
          for (int64_t j = 0; j < n; ++j) {
            const int64_t entry = (rows[i] - rows[j] + win - 1) * (2 * win - 1) + cols[i] - cols[j] + win - 1;
            const bool apart = region(rows[i]) != region(rows[j]) || region(cols[i]) != region(cols[j]);
            bias.select(1, i).select(1, j).copy_(table[entry] + (apart ? -100.0 : 0.0));
          }
        }
        const at::Tensor index = torch::tensor(tokens, torch::kLong);
        const at::Tensor result = attention(y.index_select(1, index), attn, bias);
        if (!out.defined()) out = torch::zeros({y.size(0), y.size(1), result.size(2)});
        out.index_copy_(1, index, result);
      }
    }
    return out;
  }

  // Swin's patch merging: x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2], x[1::2, 1::2] concatenated.
  at::Tensor merge(const at::Tensor& x, PatchMergingImpl& m, int64_t side) {
    const at::Tensor g = x.reshape({x.size(0), side, side, x.size(2)});
    using torch::indexing::None;
    using torch::indexing::Slice;
    const at::Tensor cat = torch::cat({g.index({Slice(), Slice(0, None, 2), Slice(0, None, 2)}),
                                       g.index({Slice(), Slice(1, None, 2), Slice(0, None, 2)}),
                                       g.index({Slice(), Slice(0, None, 2), Slice(1, None, 2)}),
                                       g.index({Slice(), Slice(1, None, 2), Slice(1, None, 2)})},
                                      -1);
    return linear(norm(cat.reshape({x.size(0), -1, 4 * x.size(2)}), m.norm), m.reduction);
  }

  at::Tensor block(const at::Tensor& x, BlockImpl& b) {
    at::Tensor y = x;
    // LayerScale: an elementwise product with gamma, no multiply-add of a matmul.
    const auto scaled = [](const at::Tensor& branch, const LayerScale& ls) {
      return ls ? branch * ls->gamma : branch;
    };
    if (b.attn && b.window().windowed()) {
      y = y + window_attention(norm(y, b.norm1), *b.attn, b.window());
    } else if (b.attn) {
      y = y + scaled(attention(norm(y, b.norm1), *b.attn), b.ls1);
    }
    if (b.mlp) {
      y = y + scaled(linear(torch::gelu(linear(norm(y, b.norm2), b.mlp->fc1)), b.mlp->fc2), b.ls2);
    }
    return y;
  }

  // T2T-ViT's Performer token attention: random features, k^T v, q (k^T v), written out.
  at::Tensor performer(const at::Tensor& input, TokenPerformerImpl& t) {
    const at::Tensor x = norm(input, t.norm1);
    const int64_t e = t.proj->weight.size(0), m = t.w.size(0);
    const at::Tensor kqv = linear(x, t.kqv);
    const at::Tensor k = kqv.narrow(-1, 0, e), q = kqv.narrow(-1, e, e), v = kqv.narrow(-1, 2 * e, e);
    const auto features = [&](const at::Tensor& z) {
      return torch::exp(mm(z, t.w.t()) - (z * z).sum(-1, true) / 2) / std::sqrt(double(m));
    };
    const at::Tensor kp = features(k), qp = features(q);
    const at::Tensor denom = mm(qp, kp.sum(1).unsqueeze(-1));
    const at::Tensor kptv = mm(v.transpose(1, 2), kp);
    const at::Tensor y = v + linear(mm(qp, kptv.transpose(1, 2)) / (denom + 1e-8), t.proj);
    const auto& fc1 = t.mlp->ptr<torch::nn::LinearImpl>(0);
    const auto& fc2 = t.mlp->ptr<torch::nn::LinearImpl>(2);
    const at::Tensor h = torch::gelu(linear(norm(y, t.norm2), torch::nn::Linear(fc1)));
    return y + linear(h, torch::nn::Linear(fc2));
  }

  at::Tensor token_transformer(const at::Tensor& input, TokenTransformerImpl& t) {
    const at::Tensor x = norm(input, t.norm1);
    const int64_t e = t.proj->weight.size(0);
    const at::Tensor qkv = linear(x, t.qkv);
    const at::Tensor q = qkv.narrow(-1, 0, e), k = qkv.narrow(-1, e, e), v = qkv.narrow(-1, 2 * e, e);
    const at::Tensor attn = (mm(q, k.transpose(1, 2)) * t.scale).softmax(-1);
    const at::Tensor y = v + linear(mm(attn, v), t.proj);
    return y + linear(torch::gelu(linear(norm(y, t.norm2), t.fc1)), t.fc2);
  }

  // The tokens-to-token stem: unfold (no multiply-adds), token attentions, projection.
  at::Tensor t2t_stem(const at::Tensor& images, T2TStemImpl& stem, const T2TStemSpec& spec) {
    namespace F = torch::nn::functional;
    at::Tensor x = images;
    for (size_t i = 0; i < spec.splits.size(); ++i) {
      const SoftSplit& s = spec.splits[i];
      if (i > 0) {
        const auto side = static_cast<int64_t>(std::lround(std::sqrt(double(x.size(1)))));
        x = x.transpose(1, 2).reshape({x.size(0), x.size(2), side, side});
      }
      x = F::unfold(x, F::UnfoldFuncOptions({s.kernel, s.kernel}).stride(s.stride).padding(s.padding))
              .transpose(1, 2);
      if (i + 1 == spec.splits.size()) break;
      if (auto* p = stem.attentions[i]->as<TokenPerformerImpl>()) {
        x = performer(x, *p);
      } else {
        x = token_transformer(x, *stem.attentions[i]->as<TokenTransformerImpl>());
      }
    }
    return linear(x, stem.project);
  }

  at::Tensor forward(VisionTransformerImpl& m, const at::Tensor& images) {
    const ViTConfig& c = m.config();
    const int64_t B = images.size(0);
    at::Tensor x;
    if (c.is_t2t()) {
      x = t2t_stem(images, *m.tokens_to_token, c.t2t);
    } else {
      const int64_t p = c.patch_size, side = c.img_size / p;
      // Patch embedding as a matmul of flattened patches: [B, P, C*p*p] @ [C*p*p, D].
      const at::Tensor patches = images.reshape({B, c.in_chans, side, p, side, p})
                                     .permute({0, 2, 4, 1, 3, 5})
                                     .reshape({B, side * side, c.in_chans * p * p});
      const auto& conv = m.patch_embed->proj;
      x = mm(patches, conv->weight.reshape({c.embed_dim, -1}).t()) + conv->bias;
    }
    if (c.is_swin()) return swin(m, norm(x, m.patch_embed->norm));
    std::vector<at::Tensor> tokens = {m.cls_token.expand({B, 1, c.embed_dim})};
    if (c.distilled) tokens.push_back(m.dist_token.expand({B, 1, c.embed_dim}));
    if (c.no_embed_class) x = x + m.pos_embed;  // DeiT III: patches only
    tokens.push_back(x);
    x = torch::cat(tokens, 1);
    if (!c.no_embed_class) x = x + m.pos_embed;
    // Token pruning: `rows` lists the patch position of every patch row of x.
    std::vector<int> rows;
    for (int p = 0; p < c.num_patches(); ++p) rows.push_back(p);
    const int64_t prefix = c.num_prefix_tokens();
    for (int i = 0; i < c.depth(); ++i) {
      const std::vector<int>& kept = c.blocks[i].tokens;
      if (!kept.empty()) {
        std::vector<at::Tensor> parts = {x.narrow(1, 0, prefix)};
        for (int p : kept) {
          const auto row = std::find(rows.begin(), rows.end(), p);
          EXPECT_NE(row, rows.end()) << "block " << i << " keeps patch " << p << " already dropped";
          parts.push_back(x.narrow(1, prefix + (row - rows.begin()), 1));
        }
        x = torch::cat(parts, 1);
        rows = kept;
      }
      if (!c.blocks[i].skip) x = block(x, *m.block(i));
    }
    x = norm(x, m.norm);
    at::Tensor logits = linear(x.select(1, 0), m.head);
    if (c.distilled) logits = (logits + linear(x.select(1, 1), m.head_dist)) / 2;
    return logits;
  }

  at::Tensor swin(VisionTransformerImpl& m, at::Tensor x) {
    const ViTConfig& c = m.config();
    int64_t side = c.img_size / c.patch_size;
    for (int i = 0; i < c.depth(); ++i) {
      const int s = c.stage_of(i);
      if (s > 0 && i == c.stage_first_block(s)) {
        x = merge(x, *m.merges->ptr<PatchMergingImpl>(s - 1), side);
        side /= 2;
      }
      if (!c.blocks[i].skip) x = block(x, *m.block(i));
    }
    return linear(norm(x, m.norm).mean(1), m.head);
  }
};

}  // namespace vitc::test
