// Random input mutations for the corpus runner (no coverage feedback): byte-level edits plus the
// structures that break parsers (deep nesting, huge or negative numbers, odd integer fields).
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace vitc::fuzz {

// Tokens of a libFuzzer dictionary file: lines `name="value"` or `"value"`, `\xNN`, `\\` and
// `\"` escapes, `#` comments. Returns false (with a message in `error`) if it cannot be read.
bool read_dictionary(const std::string& path, std::vector<std::string>& tokens, std::string& error);

class Mutator {
 public:
  Mutator(uint64_t seed, size_t max_len, std::vector<std::string> dictionary);

  // Applies 1 to 6 random edits to `input`; `pool` (other inputs) feeds crossover.
  void mutate(std::string& input, const std::vector<std::string>& pool);

  std::mt19937_64& rng() { return rng_; }

 private:
  void mutate_once(std::string& s, const std::vector<std::string>& pool);
  size_t below(size_t n) { return n == 0 ? 0 : rng_() % n; }
  size_t run_length();  // log-uniform in [1, 100000]: long runs reach recursion limits
  std::string interesting_integer();
  void insert(std::string& s, const std::string& what);
  void replace_number(std::string& s);

  std::mt19937_64 rng_;
  size_t max_len_;
  std::vector<std::string> dictionary_;
};

}  // namespace vitc::fuzz
