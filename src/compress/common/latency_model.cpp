// Block latency features, the non-negative fit, and predictions of a LatencyModel.
#include "compress/common/latency_model.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "model/head_layout.h"
#include "util/error.h"

namespace vitc {

namespace {

const std::array<const char*, kLatencyFeatures> kFeatureNames = {
    "block", "block*N", "attn", "attn*N", "head_groups", "heads*N*K", "N*Q", "N*K*Q",
    "N*V",   "N*K*V",   "mlp",  "mlp*N",  "N*F"};

}  // namespace

LatencyFeatureRow block_latency_features(const ViTConfig& compact, int i, int64_t batch,
                                         int64_t tokens, bool heads_one_by_one) {
  LatencyFeatureRow f{};
  const BlockSpec& b = compact.blocks.at(static_cast<size_t>(i));
  if (b.skip) return f;
  const AttentionWindow window = compact.block_window(i);
  const double N = static_cast<double>(tokens);
  const int64_t keys = window.windowed() ? compact.block_keys(i) : tokens;
  const double K = static_cast<double>(keys);
  f[0] = 1;
  f[1] = N;
  if (b.has_attention() && !b.heads.empty()) {
    const HeadLayout layout = head_layout(b.heads, compact.block_dim(i));
    // The attention computes windows as batch entries: [B * windows, K, D].
    const int64_t calls = window.windowed() ? batch * window.windows() : batch;
    const bool by_heads = heads_one_by_one && !window.windowed();
    const bool padded = !by_heads && pad_heads(layout, calls, keys);
    const double H = static_cast<double>(b.heads.size());
    const double Q = padded ? H * layout.qk_width : b.qk_total();
    const double V = padded ? H * layout.v_width : b.v_total();
    f[2] = 1;
    f[3] = N;
    f[4] = by_heads ? H : padded ? 1 : layout.groups;
    f[5] = H * N * K;
    f[6] = N * Q;
    f[7] = N * K * Q;
    f[8] = N * V;
    f[9] = N * K * V;
  }
  if (b.has_mlp()) {
    f[10] = 1;
    f[11] = N;
    f[12] = N * b.mlp_hidden;
  }
  return f;
}

LatencyFeatureRow block_latency_features(const ViTConfig& compact, int i, int64_t batch,
                                         bool heads_one_by_one) {
  return block_latency_features(compact, i, batch, compact.block_tokens(i), heads_one_by_one);
}

std::string block_class_key(const ViTConfig& source, int i) {
  const BlockSpec& b = source.blocks.at(static_cast<size_t>(i));
  const AttentionWindow w = source.block_window(i);
  std::string heads;
  for (const HeadSpec& h : b.heads) heads += str_cat(h.qk_dim, "/", h.v_dim, " ");
  return str_cat("dim ", source.block_dim(i), " tokens ", source.block_tokens(i), " keys ",
                 source.block_keys(i), " window ", w.window, " shift ", w.shift, " side ", w.side,
                 " heads ", heads, "mlp ", b.mlp_hidden, b.skip ? " skip" : "",
                 b.attn_skip ? " attn_skip" : "");
}

namespace {

// Solves the symmetric positive (semi)definite system M x = r by Gaussian elimination with
// partial pivoting; a tiny ridge keeps collinear features solvable.
std::vector<double> solve_small(std::vector<std::vector<double>> M, std::vector<double> r) {
  const size_t n = r.size();
  double scale = 0;
  for (size_t k = 0; k < n; ++k) scale = std::max(scale, M[k][k]);
  for (size_t k = 0; k < n; ++k) M[k][k] += 1e-12 * std::max(scale, 1e-300);
  for (size_t c = 0; c < n; ++c) {
    size_t pivot = c;
    for (size_t k = c + 1; k < n; ++k) {
      if (std::abs(M[k][c]) > std::abs(M[pivot][c])) pivot = k;
    }
    std::swap(M[c], M[pivot]);
    std::swap(r[c], r[pivot]);
    if (M[c][c] == 0) continue;
    for (size_t k = c + 1; k < n; ++k) {
      const double factor = M[k][c] / M[c][c];
      for (size_t j = c; j < n; ++j) M[k][j] -= factor * M[c][j];
      r[k] -= factor * r[c];
    }
  }
  std::vector<double> x(n, 0.0);
  for (size_t c = n; c-- > 0;) {
    double sum = r[c];
    for (size_t j = c + 1; j < n; ++j) sum -= M[c][j] * x[j];
    x[c] = M[c][c] == 0 ? 0 : sum / M[c][c];
  }
  return x;
}

// Unconstrained least squares over the columns in `set`.
std::vector<double> least_squares(const std::vector<std::vector<double>>& A,
                                  const std::vector<double>& b, const std::vector<int>& set) {
  const size_t n = set.size();
  std::vector<std::vector<double>> M(n, std::vector<double>(n, 0.0));
  std::vector<double> r(n, 0.0);
  for (size_t row = 0; row < A.size(); ++row) {
    for (size_t p = 0; p < n; ++p) {
      const double a = A[row][static_cast<size_t>(set[p])];
      r[p] += a * b[row];
      for (size_t q = 0; q < n; ++q) M[p][q] += a * A[row][static_cast<size_t>(set[q])];
    }
  }
  return solve_small(std::move(M), std::move(r));
}

}  // namespace

std::vector<double> fit_non_negative(const std::vector<LatencyFeatureRow>& rows,
                                     const std::vector<double>& targets) {
  check(rows.size() == targets.size() && !rows.empty(),
        "fit_non_negative: need as many targets as rows (got ", rows.size(), " rows, ",
        targets.size(), " targets)");
  const size_t n = kLatencyFeatures;
  std::vector<double> scale(n, 0.0);
  for (const LatencyFeatureRow& row : rows) {
    for (size_t j = 0; j < n; ++j) scale[j] = std::max(scale[j], std::abs(row[j]));
  }
  std::vector<std::vector<double>> A(rows.size(), std::vector<double>(n, 0.0));
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t j = 0; j < n; ++j) A[r][j] = scale[j] > 0 ? rows[r][j] / scale[j] : 0.0;
  }
  const auto gradient = [&](const std::vector<double>& x) {  // A^T (b - A x)
    std::vector<double> w(n, 0.0);
    for (size_t r = 0; r < A.size(); ++r) {
      double residual = targets[r];
      for (size_t j = 0; j < n; ++j) residual -= A[r][j] * x[j];
      for (size_t j = 0; j < n; ++j) w[j] += A[r][j] * residual;
    }
    return w;
  };
  std::vector<double> x(n, 0.0);
  std::vector<bool> passive(n, false);
  double target_scale = 0;
  for (double t : targets) target_scale = std::max(target_scale, std::abs(t));
  const double tolerance = 1e-10 * std::max(target_scale, 1e-300) * static_cast<double>(rows.size());
  for (size_t outer = 0; outer < 3 * n; ++outer) {
    const std::vector<double> w = gradient(x);
    int best = -1;
    for (size_t j = 0; j < n; ++j) {
      if (!passive[j] && scale[j] > 0 && w[j] > tolerance && (best < 0 || w[j] > w[best])) {
        best = static_cast<int>(j);
      }
    }
    if (best < 0) break;
    passive[static_cast<size_t>(best)] = true;
    for (size_t inner = 0; inner < 3 * n; ++inner) {
      std::vector<int> set;
      for (size_t j = 0; j < n; ++j) {
        if (passive[j]) set.push_back(static_cast<int>(j));
      }
      const std::vector<double> z_set = least_squares(A, targets, set);
      std::vector<double> z(n, 0.0);
      for (size_t p = 0; p < set.size(); ++p) z[static_cast<size_t>(set[p])] = z_set[p];
      bool feasible = true;
      for (int j : set) feasible = feasible && z[static_cast<size_t>(j)] > 0;
      if (feasible) {
        x = z;
        break;
      }
      // Step from x towards z as far as every coefficient stays non-negative.
      double alpha = 1.0;
      for (int j : set) {
        const size_t k = static_cast<size_t>(j);
        if (z[k] <= 0) alpha = std::min(alpha, x[k] / std::max(x[k] - z[k], 1e-300));
      }
      for (size_t j = 0; j < n; ++j) x[j] += alpha * (z[j] - x[j]);
      for (size_t j = 0; j < n; ++j) {
        if (passive[j] && x[j] <= 1e-15) {
          passive[j] = false;
          x[j] = 0;
        }
      }
    }
  }
  for (size_t j = 0; j < n; ++j) x[j] = scale[j] > 0 ? std::max(0.0, x[j]) / scale[j] : 0.0;
  return x;
}

double LatencyModel::block_ms(const ViTConfig& compact, int i) const {
  const LatencyFeatureRow f = block_latency_features(compact, i, batch, heads_one_by_one);
  const LatencyFeatureRow& c = coefficients.at(static_cast<size_t>(block_class.at(static_cast<size_t>(i))));
  double ms = 0;
  for (int j = 0; j < kLatencyFeatures; ++j) ms += c[static_cast<size_t>(j)] * f[static_cast<size_t>(j)];
  return ms;
}

double LatencyModel::predict_ms(const ViTConfig& source, const Structure& structure) const {
  return compact_ms(compact_config(source, structure));
}

double LatencyModel::compact_ms(const ViTConfig& compact) const {
  return fixed_ms + blocks_ms(compact);
}

double LatencyModel::blocks_ms(const ViTConfig& compact) const {
  check(compact.depth() == static_cast<int>(block_class.size()), "latency table: model '",
        compact.name, "' has ", compact.depth(), " blocks, the table ", block_class.size());
  double ms = 0;
  for (int i = 0; i < compact.depth(); ++i) ms += block_ms(compact, i);
  return ms;
}

LatencyModel::Affine LatencyModel::block_affine(const ViTConfig& source, int i) const {
  const LatencyFeatureRow& c = coefficients.at(static_cast<size_t>(block_class.at(static_cast<size_t>(i))));
  const double N = source.block_tokens(i);
  const double K = source.block_window(i).windowed() ? source.block_keys(i) : N;
  Affine a;
  const bool by_heads = heads_one_by_one && !source.block_window(i).windowed();
  a.attention_fixed = c[2] + c[3] * N + (by_heads ? 0 : c[4]);
  a.mlp_fixed = c[10] + c[11] * N;
  a.fixed = c[0] + c[1] * N + a.attention_fixed + a.mlp_fixed;
  a.per_head = c[5] * N * K + (by_heads ? c[4] : 0);
  a.per_qk_dim = c[6] * N + c[7] * N * K;
  a.per_v_dim = c[8] * N + c[9] * N * K;
  a.per_neuron = c[12] * N;
  return a;
}

void LatencyModel::check_fits(const ViTConfig& source, const std::string& where) const {
  check(static_cast<int>(block_class.size()) == source.depth(), where, ": latency table has ",
        block_class.size(), " blocks, model '", source.name, "' has ", source.depth());
  for (int i = 0; i < source.depth(); ++i) {
    const int c = block_class[static_cast<size_t>(i)];
    check(c >= 0 && c < static_cast<int>(class_keys.size()), where, ": block_class[", i, "] = ",
          c, " is not one of its ", class_keys.size(), " classes");
    check(class_keys[static_cast<size_t>(c)] == block_class_key(source, i), where,
          ": block ", i, " of model '", source.name, "' is '", block_class_key(source, i),
          "', the table measured '", class_keys[static_cast<size_t>(c)], "'");
  }
}

nlohmann::json latency_model_to_json(const LatencyModel& model) {
  nlohmann::json classes = nlohmann::json::array();
  for (size_t c = 0; c < model.class_keys.size(); ++c) {
    nlohmann::json coefficients = nlohmann::json::object();
    for (size_t j = 0; j < kFeatureNames.size(); ++j) {
      coefficients[kFeatureNames[j]] = model.coefficients[c][j];
    }
    classes.push_back({{"key", model.class_keys[c]}, {"ms_per_unit", coefficients}});
  }
  return {{"batch", model.batch},
          {"fixed_ms", model.fixed_ms},
          {"source_ms", model.source_ms},
          {"heads_one_by_one", model.heads_one_by_one},
          {"classes", classes},
          {"block_class", model.block_class}};
}

LatencyModel latency_model_from_json(const nlohmann::json& j, const std::string& where) {
  const auto field = [&](const nlohmann::json& object, const char* key,
                         const std::string& path) -> const nlohmann::json& {
    check(object.is_object() && object.contains(key), where, ": missing '", path, key, "'");
    return object.at(key);
  };
  const auto number = [&](const nlohmann::json& value, const std::string& path) {
    check(value.is_number(), where, ": '", path, "' must be a number, got ", value.dump());
    const double x = value.get<double>();
    check(std::isfinite(x) && x >= 0, where, ": '", path, "' must be finite and >= 0, got ", x);
    return x;
  };
  LatencyModel m;
  const nlohmann::json& batch = field(j, "batch", "");
  check(batch.is_number_integer() && batch.get<int64_t>() > 0, where,
        ": 'batch' must be a positive integer, got ", batch.dump());
  m.batch = batch.get<int64_t>();
  const nlohmann::json& fixed = field(j, "fixed_ms", "");  // may be negative: a calibration
  check(fixed.is_number() && std::isfinite(fixed.get<double>()), where,
        ": 'fixed_ms' must be a finite number, got ", fixed.dump());
  m.fixed_ms = fixed.get<double>();
  m.source_ms = number(field(j, "source_ms", ""), "source_ms");
  check(m.source_ms > 0, where, ": 'source_ms' must be positive");
  if (j.contains("heads_one_by_one")) {  // absent: grouped or padded heads
    const nlohmann::json& one_by_one = j.at("heads_one_by_one");
    check(one_by_one.is_boolean(), where, ": 'heads_one_by_one' must be true or false, got ",
          one_by_one.dump());
    m.heads_one_by_one = one_by_one.get<bool>();
  }
  const nlohmann::json& classes = field(j, "classes", "");
  check(classes.is_array() && !classes.empty(), where, ": 'classes' must be a non-empty array");
  for (size_t c = 0; c < classes.size(); ++c) {
    const std::string path = str_cat("classes[", c, "].");
    const nlohmann::json& key = field(classes[c], "key", path);
    check(key.is_string(), where, ": '", path, "key' must be a string");
    m.class_keys.push_back(key.get<std::string>());
    const nlohmann::json& coefficients = field(classes[c], "ms_per_unit", path);
    LatencyFeatureRow row{};
    for (size_t f = 0; f < kFeatureNames.size(); ++f) {
      row[f] = number(field(coefficients, kFeatureNames[f], path + "ms_per_unit."),
                      path + "ms_per_unit." + kFeatureNames[f]);
    }
    m.coefficients.push_back(row);
  }
  const nlohmann::json& blocks = field(j, "block_class", "");
  check(blocks.is_array(), where, ": 'block_class' must be an array");
  for (size_t i = 0; i < blocks.size(); ++i) {
    check(blocks[i].is_number_integer() && blocks[i].get<int64_t>() >= 0 &&
              blocks[i].get<int64_t>() < static_cast<int64_t>(classes.size()),
          where, ": 'block_class[", i, "]' must be a class index below ", classes.size(),
          ", got ", blocks[i].dump());
    m.block_class.push_back(blocks[i].get<int>());
  }
  return m;
}

}  // namespace vitc
