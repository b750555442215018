// Bounded JSON parsing, short value descriptions, and typed fields with named errors.
#include "util/json_read.h"

#include <cmath>

#include "util/error.h"

namespace vitc {
namespace {

constexpr size_t kBriefChars = 80;

// The byte at which nesting first exceeds kMaxJsonDepth, or npos. Brackets inside strings do not
// count; the scan stops caring at the first syntax error (the parser reports that one).
size_t too_deep_at(const std::string& text) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::string::npos;
}

std::string clip(const std::string& text) {
  if (text.size() <= kBriefChars) return text;
  return str_cat(text.substr(0, kBriefChars), "... (", text.size(), " characters)");
}

// A value's text, cut off once it passes the limit: containers are written element by element so
// that a huge array is not dumped whole only to be clipped.
void write_brief(const nlohmann::json& value, std::string& out, int depth) {
  if (out.size() > kBriefChars) return;
  if (value.is_array() || value.is_object()) {
    if (depth >= 4) {
      out += value.is_array() ? "[...]" : "{...}";
      return;
    }
    out += value.is_array() ? "[" : "{";
    bool first = true;
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (out.size() > kBriefChars) {
        out += ", ...";
        break;
      }
      if (!first) out += ", ";
      first = false;
      if (value.is_object()) out += nlohmann::json(it.key()).dump() + ": ";
      write_brief(*it, out, depth + 1);
    }
    out += value.is_array() ? "]" : "}";
    return;
  }
  std::string scalar;
  try {
    scalar = value.dump();
  } catch (const nlohmann::json::exception&) {
    scalar = "<a string that is not valid UTF-8>";
  }
  out += scalar.size() > kBriefChars ? scalar.substr(0, kBriefChars) + "..." : scalar;
}

// The integer a JSON value holds exactly, or false: integral floats (28.0) count, 28.9 does not.
bool exact_integer(const nlohmann::json& v, int64_t& out) {
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return false;
    out = static_cast<int64_t>(u);
    return true;
  }
  if (v.is_number_integer()) {
    out = v.get<int64_t>();
    return true;
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!std::isfinite(d) || std::floor(d) != d || std::fabs(d) > 9.0e18) return false;
    out = static_cast<int64_t>(d);
    return true;
  }
  return false;
}

}  // namespace

nlohmann::json parse_json_text(const std::string& text, const std::string& where,
                               const std::string& what,
                               const nlohmann::json::parser_callback_t& callback) {
  const size_t deep = too_deep_at(text);
  check(deep == std::string::npos, "'", where, "': ", what, " nests deeper than ", kMaxJsonDepth,
        " levels (at byte ", deep, "); no valid file does");
  try {
    return nlohmann::json::parse(text, callback);
  } catch (const nlohmann::json::exception& e) {
    // parse_error (syntax), out_of_range (a number such as 1e999 that no double holds).
    fail("'", where, "': ", what, " is not valid JSON: ", e.what());
  }
}

std::string json_brief(const nlohmann::json& value) {
  std::string text;
  write_brief(value, text, 0);
  if (value.is_array()) return str_cat("an array of ", value.size(), " elements ", clip(text));
  if (value.is_object()) return str_cat("an object with ", value.size(), " keys ", clip(text));
  return clip(text);
}

JsonFields::JsonFields(const nlohmann::json& object, std::string where, std::string path)
    : object_(object), where_(std::move(where)), path_(std::move(path)) {
  if (!object_.is_object()) {
    const std::string self = path_.empty() ? "the top level" : "'" + path_.substr(0, path_.size() - 1) + "'";
    fail(where_, ": ", self, " must be a JSON object, got ", json_brief(object_));
  }
}

bool JsonFields::has(const std::string& key) const { return object_.contains(key); }

const nlohmann::json& JsonFields::at(const std::string& key) const {
  auto it = object_.find(key);
  check(it != object_.end(), where_, ": missing key '", path_, key, "'");
  return *it;
}

void JsonFields::fail_value(const std::string& key_path, const nlohmann::json& value,
                            const std::string& expected) const {
  fail(where_, ": key '", key_path, "' is ", json_brief(value), ", expected ", expected);
}

int64_t JsonFields::integer(const std::string& key, int64_t min, int64_t max) const {
  const nlohmann::json& v = at(key);
  int64_t out = 0;
  if (!exact_integer(v, out) || out < min || out > max)
    fail_value(path_ + key, v, str_cat("an integer in [", min, ", ", max, "]"));
  return out;
}

double JsonFields::number(const std::string& key) const {
  const nlohmann::json& v = at(key);
  if (!v.is_number() || !std::isfinite(v.get<double>())) fail_value(path_ + key, v, "a finite number");
  return v.get<double>();
}

bool JsonFields::boolean(const std::string& key) const {
  const nlohmann::json& v = at(key);
  if (!v.is_boolean()) fail_value(path_ + key, v, "true or false");
  return v.get<bool>();
}

std::string JsonFields::string(const std::string& key) const {
  const nlohmann::json& v = at(key);
  if (!v.is_string()) fail_value(path_ + key, v, "a string");
  return v.get<std::string>();
}

const nlohmann::json& JsonFields::array(const std::string& key, size_t max_count) const {
  const nlohmann::json& v = at(key);
  if (!v.is_array() || v.size() > max_count)
    fail_value(path_ + key, v, str_cat("an array of at most ", max_count, " elements"));
  return v;
}

std::vector<int> JsonFields::integers(const std::string& key, int min, int max,
                                      size_t max_count) const {
  const nlohmann::json& v = array(key, max_count);
  std::vector<int> out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    int64_t value = 0;
    if (!exact_integer(v[i], value) || value < min || value > max)
      fail_value(str_cat(path_, key, "[", i, "]"), v[i],
                 str_cat("an integer in [", min, ", ", max, "]"));
    out.push_back(static_cast<int>(value));
  }
  return out;
}

std::vector<double> JsonFields::numbers(const std::string& key, size_t max_count) const {
  const nlohmann::json& v = array(key, max_count);
  std::vector<double> out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_number() || !std::isfinite(v[i].get<double>()))
      fail_value(str_cat(path_, key, "[", i, "]"), v[i], "a finite number");
    out.push_back(v[i].get<double>());
  }
  return out;
}

}  // namespace vitc
