// One task per (image, head), each computed by model/head_attention.h (see attention_by_heads.h).
#include "model/attention_by_heads.h"

#include <algorithm>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "model/batched_matmul.h"
#include "model/cblas_sgemm.h"
#include "model/parallel_grain.h"
#include "model/softmax_rows.h"
#include "util/compute.h"
#include "util/error.h"

namespace vitc {

HeadAttentionTask head_attention_task(const float* image_qkv, int64_t tokens,
                                      const HeadColumns& head, int qk_total, int v_total,
                                      float scale, float* image_out) {
  HeadAttentionTask task;
  task.q = image_qkv + head.q_offset;
  task.k = image_qkv + qk_total + head.q_offset;
  task.v = image_qkv + 2 * qk_total + head.v_offset;
  task.ld_in = 2 * int64_t{qk_total} + v_total;
  task.tokens = tokens;
  task.qk_dim = head.qk_dim;
  task.v_dim = head.v_dim;
  task.scale = scale;
  task.out = image_out + head.v_offset;
  task.ld_out = v_total;
  return task;
}

bool attention_by_heads_runs_on(const c10::Device& device) {
  return device.is_cpu() && cblas_sgemm_or_null() != nullptr;
}

bool attention_by_heads_applies(const at::Tensor& x) {
  return x.defined() && attention_by_heads_runs_on(x.device()) && x.scalar_type() == at::kFloat &&
         current_precision(c10::Device(c10::kCPU)) == Precision::fp32;
}

namespace {

// The forward: every (image, head) by model/head_attention.h. No autograd.
at::Tensor attend_by_heads(const at::Tensor& qkv_projection, const std::vector<HeadColumns>& heads,
                           double scale, int qk_total, int v_total) {
  const at::Tensor qkv_out = qkv_projection.contiguous();
  const int64_t B = qkv_out.size(0), N = qkv_out.size(1), W = qkv_out.size(2);
  check(W == 2 * int64_t{qk_total} + v_total, "attention_by_heads: qkv output width ", W,
        " but the heads need 2 x ", qk_total, " + ", v_total);
  at::Tensor out = at::empty({B, N, v_total}, qkv_out.options());
  const int64_t H = static_cast<int64_t>(heads.size());
  if (B == 0 || N == 0 || H == 0) return out.zero_();
  const float* qkv = qkv_out.data_ptr<float>();
  float* o = out.data_ptr<float>();
  int max_qk = 0;
  int64_t mean_work = 0;
  for (const HeadColumns& h : heads) {
    check(h.qk_dim >= 0 && h.v_dim >= 0 && h.q_offset >= 0 && h.v_offset >= 0 &&
              h.q_offset + h.qk_dim <= qk_total && h.v_offset + h.v_dim <= v_total,
          "attention_by_heads: head columns q ", h.q_offset, "+", h.qk_dim, ", v ", h.v_offset,
          "+", h.v_dim, " outside q/k width ", qk_total, " and v width ", v_total);
    max_qk = std::max(max_qk, h.qk_dim);
    mean_work += N * N * (h.qk_dim + h.v_dim);
  }
  mean_work /= H;
  const float scale_f = static_cast<float>(scale);
  head_attention_sgemm_forced();  // a bad VITC_HEAD_ATTENTION is refused here, not in a thread
  at::parallel_for(0, B * H, product_grain(mean_work), [&](int64_t begin, int64_t end) {
    HeadAttentionScratch scratch(N, max_qk);
    for (int64_t task = begin; task < end; ++task) {
      const int64_t b = task / H;
      head_attention(head_attention_task(qkv + b * N * W, N, heads[static_cast<size_t>(task % H)],
                                         qk_total, v_total, scale_f, o + b * N * v_total),
                     scratch.data());
    }
  });
  return out;
}

// Heads side by side with equal widths and consecutive columns, as one batched computation.
struct HeadRun {
  int first_q, first_v, count, qk_dim, v_dim;
};

std::vector<HeadRun> runs_of(const std::vector<HeadColumns>& heads) {
  std::vector<HeadRun> runs;
  for (const HeadColumns& h : heads) {
    if (!runs.empty()) {
      HeadRun& r = runs.back();
      if (r.qk_dim == h.qk_dim && r.v_dim == h.v_dim &&
          r.first_q + r.count * r.qk_dim == h.q_offset &&
          r.first_v + r.count * r.v_dim == h.v_offset) {
        ++r.count;
        continue;
      }
    }
    runs.push_back({h.q_offset, h.v_offset, 1, h.qk_dim, h.v_dim});
  }
  return runs;
}

// With autograd: the forward is attend_by_heads itself, so that a model in training computes
// what the same model computes in inference, bit for bit; the backward recomputes each run of
// equal heads' softmax with ATen-shaped products (vitc's batched_matmul and softmax_rows) and
// applies attention's gradients, writing them into the heads' columns of qkv_out's gradient.
struct AttentionByHeadsFunction : public torch::autograd::Function<AttentionByHeadsFunction> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& qkv_out,
                            const std::vector<HeadColumns>& heads, double scale, int64_t qk_total,
                            int64_t v_total) {
    at::Tensor out;
    {
      at::AutoDispatchBelowADInplaceOrView guard;
      out = attend_by_heads(qkv_out, heads, scale, static_cast<int>(qk_total),
                            static_cast<int>(v_total));
    }
    std::vector<int64_t> columns;
    for (const HeadColumns& h : heads) {
      columns.insert(columns.end(), {h.q_offset, h.qk_dim, h.v_offset, h.v_dim});
    }
    ctx->saved_data["columns"] = columns;
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["qk_total"] = qk_total;
    ctx->saved_data["v_total"] = v_total;
    ctx->save_for_backward({qkv_out});
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const at::Tensor qkv_out = ctx->get_saved_variables()[0];
    const std::vector<int64_t> columns = ctx->saved_data["columns"].toIntVector();
    const double scale = ctx->saved_data["scale"].toDouble();
    const int64_t qk_total = ctx->saved_data["qk_total"].toInt();
    std::vector<HeadColumns> heads;
    for (size_t i = 0; i + 3 < columns.size(); i += 4) {
      heads.push_back({static_cast<int>(columns[i]), static_cast<int>(columns[i + 1]),
                       static_cast<int>(columns[i + 2]), static_cast<int>(columns[i + 3])});
    }
    const at::Tensor grad_out = grads[0].contiguous();
    const int64_t B = qkv_out.size(0), N = qkv_out.size(1);
    at::Tensor grad_qkv = at::zeros_like(qkv_out);
    // [B, N, count * width] at `offset` -> [B, count, N, width]
    const auto split = [&](const at::Tensor& t, int64_t offset, const HeadRun& r, int width) {
      return t.narrow(-1, offset, r.count * width).reshape({B, N, r.count, width}).transpose(1, 2);
    };
    const auto merge = [&](const at::Tensor& t, const HeadRun& r, int width) {
      return t.transpose(1, 2).reshape({B, N, r.count * width});
    };
    for (const HeadRun& r : runs_of(heads)) {
      const at::Tensor q = split(qkv_out, r.first_q, r, r.qk_dim) * scale;
      const at::Tensor k = split(qkv_out, qk_total + r.first_q, r, r.qk_dim);
      const at::Tensor v = split(qkv_out, 2 * qk_total + r.first_v, r, r.v_dim);
      const at::Tensor weights = softmax_last_dim(batched_matmul(q, k.transpose(-2, -1)));
      const at::Tensor d_out = split(grad_out, r.first_v, r, r.v_dim);
      const at::Tensor d_weights = batched_matmul(d_out, v.transpose(-2, -1));
      const at::Tensor d_scores =
          at::_softmax_backward_data(d_weights, weights, -1, weights.scalar_type());
      grad_qkv.narrow(-1, r.first_q, r.count * r.qk_dim)
          .copy_(merge(batched_matmul(d_scores, k) * scale, r, r.qk_dim));
      grad_qkv.narrow(-1, qk_total + r.first_q, r.count * r.qk_dim)
          .copy_(merge(batched_matmul(d_scores.transpose(-2, -1), q), r, r.qk_dim));
      grad_qkv.narrow(-1, 2 * qk_total + r.first_v, r.count * r.v_dim)
          .copy_(merge(batched_matmul(weights.transpose(-2, -1), d_out), r, r.v_dim));
    }
    return {grad_qkv, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor attention_by_heads(const at::Tensor& qkv_out, const std::vector<HeadColumns>& heads,
                              double scale, int qk_total, int v_total) {
  check(attention_by_heads_applies(qkv_out) && qkv_out.dim() == 3,
        "attention_by_heads: qkv output of shape ", qkv_out.sizes(),
        " is not a [B, N, width] float32 CPU tensor");
  if (at::GradMode::is_enabled() && qkv_out.requires_grad()) {
    return AttentionByHeadsFunction::apply(qkv_out, heads, scale, int64_t{qk_total},
                                           int64_t{v_total});
  }
  return attend_by_heads(qkv_out, heads, scale, qk_total, v_total);
}

}  // namespace vitc
