// Attention in inference over heads of any widths, straight from the qkv projection's output.
//
// Why it exists: a compact block whose heads all have different widths (ViT-Slim and UVC keep a
// few q/k and v dims of each head) computed them either as one group per width (each group its
// own reshapes, two batched products, softmax and concatenation: on fm_small ~17 us per group)
// or zero-padded to the widest head (the padding's MACs are real). Here every (image, head) is
// one task: two cblas_sgemm calls on the head's own columns of qkv_out (no copy but the scaled
// q), the row softmax of softmax_rows.h in a per-thread buffer, and the head's output written
// into its columns of the result. Each head costs what its own widths say, plus its N x N
// softmax. The arithmetic is the grouped path's: q scaled first, the same sgemm shapes and the
// same softmax kernel.
//
// Used by AttentionImpl::forward where it applies: no autograd, float32 on the CPU with
// OpenBLAS's cblas_sgemm, global attention without a score bias (not Swin's windows), no masks.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/Tensor.h>
#include <c10/core/Device.h>

namespace vitc {

// Where one head's features sit: q at q_offset and k at qk_total + q_offset (qk_dim wide each),
// v at 2 * qk_total + v_offset in qkv_out (v_dim wide), its output at v_offset in the result.
struct HeadColumns {
  int q_offset = 0, qk_dim = 0, v_offset = 0, v_dim = 0;
};

// Whether inference on `device` computes global attention (no windows, no score bias, no masks)
// head by head here: the CPU, with cblas_sgemm. The latency model counts heads so there.
bool attention_by_heads_runs_on(const c10::Device& device);

// Whether attention_by_heads computes an attention whose input is x: no autograd, float32 on the
// CPU outside bf16 autocast, and cblas_sgemm available.
bool attention_by_heads_applies(const at::Tensor& x);

// qkv_out [B, N, 2 * qk_total + v_total] -> [B, N, v_total]: per head
// softmax((q * scale) k^T) v, heads' outputs side by side at their v offsets.
at::Tensor attention_by_heads(const at::Tensor& qkv_out, const std::vector<HeadColumns>& heads,
                              double scale, int qk_total, int v_total);

}  // namespace vitc
