// One declaration per setting. An options struct lists its settings once, in a static
// `visit_settings(self, visitor)`, and that one list drives the command-line flags
// (apps/setting_flags.h), the settings' JSON in run.json and in resume checks
// (settings_to_json) and the range checks (validate_settings), so a setting is added in one
// place. Settings several structs share (lr, epochs, pad, ...) are declared once as `Setting`
// constants (train/train_settings.h) and only referenced by the structs.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace vitc {

// The values a numeric setting may take. Doubles must also be finite.
struct Range {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool lo_open = false, hi_open = false;

  static Range any() { return {}; }
  static Range at_least(double v) { return {v, std::numeric_limits<double>::infinity(), false, false}; }
  static Range positive() { return {0, std::numeric_limits<double>::infinity(), true, false}; }
  static Range closed(double a, double b) { return {a, b, false, false}; }     // [a, b]
  static Range half_open(double a, double b) { return {a, b, false, true}; }  // [a, b)

  bool contains(double v) const {
    return (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
  }
  std::string describe() const;  // "at least 1", "positive", "in [0, 1)", ...
};

// One setting: its flag name, help, allowed values and JSON key.
struct Setting {
  const char* name;              // the flag without "--" or stage prefix: "lr", "batch-size"
  const char* help;              // the --help text
  Range range = Range::any();
  const char* json_key = nullptr;  // the key in the settings' JSON; default: name with '_' for '-'
  // false: the flag is never prefixed (a method's own settings such as --lambda-attn or --slr,
  // unique already); true: a stage's prefix applies (--finetune-lr, --search-lr).
  bool prefixed = true;
  // false: recorded and checked, but no flag (an internal constant such as the gate momentum).
  bool has_flag = true;

  std::string key() const {
    if (json_key != nullptr) return json_key;
    std::string k = name;
    for (char& c : k)
      if (c == '-') c = '_';
    return k;
  }
  std::string flag(const std::string& prefix) const {
    return "--" + (prefixed ? prefix : std::string()) + name;
  }
  Setting with_help(const char* h) const { Setting s = *this; s.help = h; return s; }
  // Another flag name for the same meaning (the JSON key follows unless json_key is set).
  Setting with_name(const char* n) const { Setting s = *this; s.name = n; return s; }
  Setting with_range(Range r) const { Setting s = *this; s.range = r; return s; }
};

inline std::string Range::describe() const {
  std::ostringstream out;
  const bool has_lo = std::isfinite(lo), has_hi = std::isfinite(hi);
  if (has_lo && !has_hi) {
    if (lo == 0 && lo_open) out << "positive";
    else out << (lo_open ? "greater than " : "at least ") << lo;
  } else if (!has_lo && has_hi) {
    out << (hi_open ? "less than " : "at most ") << hi;
  } else if (has_lo && has_hi) {
    out << "in " << (lo_open ? "(" : "[") << lo << ", " << hi << (hi_open ? ")" : "]");
  } else {
    out << "a number";
  }
  return out.str();
}

// The settings of `options` as a JSON object: every setting under its key, nested groups
// (visitor.nested) as objects.
template <class Options>
nlohmann::json settings_to_json(const Options& options);

namespace settings_detail {

struct ToJson {
  nlohmann::json& out;
  template <class T>
  void operator()(const Setting& s, const T& value) { out[s.key()] = value; }
  template <class Group>
  void nested(const char* key, const Group& group) { out[key] = settings_to_json(group); }
  // A group whose settings sit at this level (their keys and flags unchanged).
  template <class Group>
  void flat(const Group& group) { Group::visit_settings(group, *this); }
};

struct Validate {
  std::string prefix;  // the stage's flag prefix, so that a message names the flag as typed
  template <class T>
  void operator()(const Setting& s, const T& value) {
    if constexpr (std::is_same_v<T, bool>) {
      return;
    } else {
      const double v = static_cast<double>(value);
      const bool finite = !std::is_floating_point_v<T> || std::isfinite(v);
      if (!finite || !s.range.contains(v))
        fail(s.has_flag ? s.flag(prefix) : s.key(), " must be ", s.range.describe(),
             std::is_floating_point_v<T> ? " and finite" : "", ", got ", value);
    }
  }
  template <class Group>
  void nested(const char*, const Group& group) { Group::visit_settings(group, *this); }
  template <class Group>
  void flat(const Group& group) { Group::visit_settings(group, *this); }
};

}  // namespace settings_detail

template <class Options>
nlohmann::json settings_to_json(const Options& options) {
  nlohmann::json out = nlohmann::json::object();
  settings_detail::ToJson visitor{out};
  Options::visit_settings(options, visitor);
  return out;
}

// Throws vitc::Error naming the first setting outside its range, as the flag `--<prefix><name>`
// (a setting without a flag by its JSON key).
template <class Options>
void validate_settings(const Options& options, const std::string& prefix = "") {
  settings_detail::Validate visitor{prefix};
  Options::visit_settings(options, visitor);
}

}  // namespace vitc
