// vitc::Error and a formatting helper: every library failure carries what was wrong and where.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace vitc {

// The one exception type vitc's library throws for bad input (files, keys, values).
// Apps turn it into a message on stderr and a non-zero exit code.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Concatenates its arguments with operator<<.
template <typename... Args>
std::string str_cat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

// Throws vitc::Error with the concatenated message.
template <typename... Args>
[[noreturn]] void fail(const Args&... args) {
  throw Error(str_cat(args...));
}

// Throws vitc::Error with the message unless `condition` holds.
template <typename... Args>
void check(bool condition, const Args&... args) {
  if (!condition) fail(args...);
}

// "a, b, c" from a list of names: used in "valid values are ..." messages.
template <typename Container>
std::string join(const Container& items, const std::string& sep = ", ") {
  std::ostringstream out;
  bool first = true;
  for (const auto& item : items) {
    if (!first) out << sep;
    out << item;
    first = false;
  }
  return out.str();
}

}  // namespace vitc
