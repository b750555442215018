// Latency predicted from a per-block table: what a compact model of a source ViT will take for
// one forward pass on the machine, device, batch and threads the table was measured on
// (latency_table.h measures and caches it).
//
// Each source block belongs to a class of blocks of equal geometry (width, tokens, keys, heads,
// MLP width, window; a ViT has one class, a Swin one per stage). A compact block's latency is a
// non-negative combination of the work its kept sizes imply, fitted per class to measured blocks:
//   1, N                         the block's residual adds and fixed dispatch
//   a, a N                       the attention branch: norm1, its dispatch, proj bias
//   G                            per executed head group (a batched matmul and softmax each;
//                                1 when the heads are padded, model/head_layout.h; every head
//                                where inference computes them one by one, attention_by_heads.h)
//   H N K                        softmax and scaling over every head's score matrix
//   N Q, N K Q                   q/k rows and q k^T over the executed q/k dims Q
//   N V, N K V                   v rows, proj columns and attn v over the executed v dims V
//   m, m N                       the MLP branch: norm2, GELU's and fc2's fixed parts
//   N F                          fc1 rows and fc2 columns of the F kept neurons
// with N the block's tokens, K the keys per query, a and m 1 where the branch is kept. The model
// is the blocks' sum plus a fixed part (stem, head, token gathering), calibrated so that the dense
// source predicts its own measured latency. Predictions are in milliseconds; as a budget
// resource (compress/common/budget.h) they count whole picoseconds.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "model/config.h"
#include "model/structure.h"

namespace vitc {

inline constexpr int kLatencyFeatures = 13;
using LatencyFeatureRow = std::array<double, kLatencyFeatures>;

// The features above of block i of `compact` (a compact config: its block i keeps what it
// computes), when it processes `tokens` tokens at batch `batch` (tokens = the block's own count
// unless a measurement feeds it fewer). Zero for a skipped block.
// heads_one_by_one: the device computes global attention head by head at the heads' own widths
// (LatencyModel::heads_one_by_one).
LatencyFeatureRow block_latency_features(const ViTConfig& compact, int i, int64_t batch,
                                         int64_t tokens, bool heads_one_by_one);
LatencyFeatureRow block_latency_features(const ViTConfig& compact, int i, int64_t batch,
                                         bool heads_one_by_one);

// Identifies a source block's class: its width, tokens, keys, window and dense sizes.
std::string block_class_key(const ViTConfig& source, int i);

// Non-negative least squares (Lawson-Hanson): x >= 0 minimising |A x - b|, A given by its rows.
// Columns are rescaled internally, so features of very different magnitudes fit alike.
std::vector<double> fit_non_negative(const std::vector<LatencyFeatureRow>& rows,
                                     const std::vector<double>& targets);

// The fitted per-class coefficients and the fixed part, for one source model.
struct LatencyModel {
  std::vector<std::string> class_keys;            // per class
  std::vector<LatencyFeatureRow> coefficients;    // per class, milliseconds per feature unit
  std::vector<int> block_class;                   // per source block
  int64_t batch = 0;
  double fixed_ms = 0;    // everything outside the blocks
  double source_ms = 0;   // the dense source's measured latency
  // Inference on the table's device computes global attention head by head at each head's own
  // widths (model/attention_by_heads.h: the CPU); else grouped or padded (head_layout.h).
  bool heads_one_by_one = false;

  // Milliseconds of the compact model of `structure` (validated against `source`).
  double predict_ms(const ViTConfig& source, const Structure& structure) const;
  double compact_ms(const ViTConfig& compact) const;       // of a compact config of the source
  double blocks_ms(const ViTConfig& compact) const;        // its blocks' sum (no fixed part)
  double block_ms(const ViTConfig& compact, int i) const;  // block i of a compact config
  // Block i's latency as an affine function of what UVC and DC-ViT prune, at the block's dense
  // tokens, in milliseconds: fixed (both branches kept) + per_qk_dim Q + per_v_dim V + per_head H
  // + per_neuron F. Grouping is taken as padded-or-one-group: G counts once, in fixed; where heads
  // are computed one by one, G counts per head, in per_head.
  struct Affine {
    double fixed = 0, attention_fixed = 0, mlp_fixed = 0;  // attention_/mlp_fixed: a branch's part
    double per_qk_dim = 0, per_v_dim = 0, per_head = 0, per_neuron = 0;
  };
  Affine block_affine(const ViTConfig& source, int i) const;

  // Throws vitc::Error naming `where` when the model does not fit `source` (other blocks).
  void check_fits(const ViTConfig& source, const std::string& where) const;
};

nlohmann::json latency_model_to_json(const LatencyModel& model);
// Throws vitc::Error naming `where` and the field on a missing, mistyped or inconsistent entry.
LatencyModel latency_model_from_json(const nlohmann::json& j, const std::string& where);

// Picoseconds, the unit of latency as a budget resource (integer costs keep UVC's per-dimension
// slopes non-zero at batch 1).
inline int64_t latency_ms_to_ps(double ms) { return static_cast<int64_t>(ms * 1e9 + 0.5); }
inline double latency_ps_to_ms(int64_t ps) { return static_cast<double>(ps) * 1e-9; }

}  // namespace vitc
