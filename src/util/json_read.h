// Reading untrusted JSON: bounded nesting, short value descriptions for messages, and typed,
// range-checked fields whose errors name the file and the key's path.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vitc {

// No file vitc reads nests deeper than this; a deeper one is refused before it is parsed, so no
// recursive copy, dump or comparison of a parsed value can exhaust the stack.
inline constexpr int kMaxJsonDepth = 64;

// Parses `text`; `where` (a file path) names the source in errors and `what` the text ("the
// file", "the safetensors header"). Refuses nesting deeper than kMaxJsonDepth, invalid syntax and
// numbers out of double's range (1e999), naming the byte. `callback` goes to nlohmann's parser.
nlohmann::json parse_json_text(const std::string& text, const std::string& where,
                               const std::string& what = "the file",
                               const nlohmann::json::parser_callback_t& callback = nullptr);

// A short description of a value for error messages: scalars as written (long strings clipped),
// containers by their kind and size plus a clipped prefix. Bounded output whatever the value.
std::string json_brief(const nlohmann::json& value);

// Typed access to the keys of one JSON object. Every error names `where` (the file) and the
// key's full path (`path` + key, e.g. "config.blocks[3].mlp_hidden"), says what was expected,
// and shows the value (json_brief). Integers must be integral (28.9 and 2^32+1 for an int are
// refused, not truncated); numbers must be finite.
class JsonFields {
 public:
  // `path` is the object's own path ("" for the top level, else e.g. "config." with the dot).
  JsonFields(const nlohmann::json& object, std::string where, std::string path);

  bool has(const std::string& key) const;
  const nlohmann::json& at(const std::string& key) const;  // throws if the key is missing
  std::string key_path(const std::string& key) const { return path_ + key; }

  int64_t integer(const std::string& key, int64_t min, int64_t max) const;
  int integer32(const std::string& key, int min, int max) const {
    return static_cast<int>(integer(key, min, max));
  }
  double number(const std::string& key) const;  // any finite number
  bool boolean(const std::string& key) const;
  std::string string(const std::string& key) const;
  std::vector<int> integers(const std::string& key, int min, int max, size_t max_count) const;
  std::vector<double> numbers(const std::string& key, size_t max_count) const;
  // The array at `key` (at most max_count elements), for the caller to walk.
  const nlohmann::json& array(const std::string& key, size_t max_count) const;

  // Errors for a value at a given path, shared with callers that walk arrays themselves.
  [[noreturn]] void fail_value(const std::string& key_path, const nlohmann::json& value,
                               const std::string& expected) const;

 private:
  const nlohmann::json& object_;
  std::string where_;
  std::string path_;
};

}  // namespace vitc
