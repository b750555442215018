// Attention on the CPU over heads of any widths, straight from the qkv projection's output.
//
// Why it exists: a compact block whose heads all have different widths (ViT-Slim and UVC keep a
// few q/k and v dims of each head) computed them either as one group per width (each group its
// own reshapes, two batched products, softmax and concatenation: on fm_small ~17 us per group)
// or zero-padded to the widest head (the padding's MACs are real). Here every (image, head) is
// one task of model/head_attention.h, reading the head's own columns of qkv_out and writing its
// output into its columns of the result: no reshapes, no concatenation, no zero dims. Each head
// costs what its own widths say, plus its N x N exponentials.
//
// In training the same forward runs inside an autograd function (its backward recomputes each
// run of equal heads' softmax and applies attention's gradients with batched products), so that
// a model computes the same values in training and in inference, bit for bit on one thread:
// a student identical to its teacher has exactly zero distillation loss.
//
// Used by AttentionImpl::forward where it applies: float32 on the CPU with OpenBLAS's
// cblas_sgemm, outside bf16 autocast, global attention without a score bias (not Swin's
// windows) and without key weights (token masks). Width and head masks are applied around it.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/Tensor.h>
#include <c10/core/Device.h>

#include "model/head_attention.h"

namespace vitc {

// Where one head's features sit: q at q_offset and k at qk_total + q_offset (qk_dim wide each),
// v at 2 * qk_total + v_offset in qkv_out (v_dim wide), its output at v_offset in the result.
struct HeadColumns {
  int q_offset = 0, qk_dim = 0, v_offset = 0, v_dim = 0;
};

// Whether inference on `device` computes global attention (no windows, no score bias, no masks)
// head by head here: the CPU, with cblas_sgemm. The latency model counts heads so there.
bool attention_by_heads_runs_on(const c10::Device& device);

// Whether attention_by_heads computes an attention whose input is x: float32 on the CPU outside
// bf16 autocast, and cblas_sgemm available (with or without autograd).
bool attention_by_heads_applies(const at::Tensor& x);

// One image's task for model/head_attention.h: its qkv rows [tokens, 2 * qk_total + v_total] at
// image_qkv, its output rows [tokens, v_total] at image_out, `head`'s columns in both.
HeadAttentionTask head_attention_task(const float* image_qkv, int64_t tokens,
                                      const HeadColumns& head, int qk_total, int v_total,
                                      float scale, float* image_out);

// qkv_out [B, N, 2 * qk_total + v_total] -> [B, N, v_total]: per head
// softmax((q * scale) k^T) v, heads' outputs side by side at their v offsets. Differentiable with
// respect to qkv_out.
at::Tensor attention_by_heads(const at::Tensor& qkv_out, const std::vector<HeadColumns>& heads,
                              double scale, int qk_total, int v_total);

}  // namespace vitc
