// Structure-aware help for the JSON readers' mutations: a number wrapped in thousands of levels
// of arrays or objects. The result still parses, so it reaches the code that looks at the value
// (type checks, error messages that print it), which random bytes almost never do.
#pragma once

#include <cctype>
#include <cstddef>
#include <string>
#include <vector>

namespace vitc::fuzz {

// Wraps one number of `json` (picked by `seed`) in 1000 to 128000 levels (also picked by
// `seed`) of `[...]` or `{"a":...}`. Returns false if `json` has no number.
inline bool wrap_number_deeply(std::string& json, unsigned seed) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < json.size() && starts.size() < 4096; ++i) {
    const bool digit = std::isdigit(static_cast<unsigned char>(json[i])) != 0;
    const bool after_token = i == 0 || json[i - 1] == ':' || json[i - 1] == '[' ||
                             json[i - 1] == ',' || json[i - 1] == ' ';
    if (digit && after_token) starts.push_back(i);
  }
  if (starts.empty()) return false;
  const size_t begin = starts[seed % starts.size()];
  size_t end = begin;
  while (end < json.size() && (std::isdigit(static_cast<unsigned char>(json[end])) != 0 ||
                               json[end] == '.' || json[end] == 'e' || json[end] == 'E' ||
                               json[end] == '-' || json[end] == '+')) {
    ++end;
  }
  const size_t depth = size_t{1000} << ((seed / 4096) % 8);
  const bool objects = (seed / 32768) % 2 == 1;
  std::string open;
  std::string close;
  for (size_t i = 0; i < depth; ++i) open += objects ? "{\"a\":" : "[";
  close.assign(depth, objects ? '}' : ']');
  json.insert(end, close);
  json.insert(begin, open);
  return true;
}

}  // namespace vitc::fuzz
