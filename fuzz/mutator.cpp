// Random input mutations for the corpus runner.
#include "mutator.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <utility>

namespace vitc::fuzz {
namespace {

// Numbers that break JSON readers: out of every integer type's range, overflowing a double,
// negative sizes, fractions where integers belong.
const char* const kNastyNumbers[] = {
    "1e999", "-1e999", "1e-999", "4294967297", "4294967296", "4294967295", "2147483648",
    "-2147483649", "-1", "-0", "0", "0.5", "1.0000000001", "9223372036854775807",
    "9223372036854775808", "-9223372036854775808", "18446744073709551615",
    "18446744073709551616", "99999999999999999999999999", "1e18", "65536", "1e308", "NaN",
};

// Strings repeated into long runs: nesting depth, long keys.
const std::string kRunUnits[] = {"[", "{\"a\":", "[{\"a\":", "{\"\":[", "]", "}", "\"", "0",
                                 std::string(1, '\0')};

// Text tokens worth inserting even without a dictionary.
const char* const kTokens[] = {
    "null", "true", "false", "[]", "{}", "\"\"", ",", ":", "\"dtype\"", "\"shape\"",
    "\"data_offsets\"", "\"config\"", "\"structure\"", "\"source_config\"", "\"blocks\"",
    "\\u0000", "\\ud800", "\xff\xfe", "IHDR", "IDAT", "IEND", "PLTE", "tRNS", "\xff\xd8\xff",
    "\x89PNG\r\n\x1a\n", "\x1f\x8b\x08",
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

bool read_dictionary(const std::string& path, std::vector<std::string>& tokens, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = "cannot open dictionary " + path;
    return false;
  }
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    const size_t open = line.find('"');
    const size_t close = line.rfind('"');
    if (open == std::string::npos || close == open) {
      error = path + ":" + std::to_string(number) + ": expected a quoted token";
      return false;
    }
    std::string token;
    for (size_t i = open + 1; i < close; ++i) {
      if (line[i] != '\\' || i + 1 >= close) {
        token += line[i];
      } else if (line[i + 1] == 'x' && i + 3 < close && hex_value(line[i + 2]) >= 0 &&
                 hex_value(line[i + 3]) >= 0) {
        token += static_cast<char>(hex_value(line[i + 2]) * 16 + hex_value(line[i + 3]));
        i += 3;
      } else {
        token += line[++i];
      }
    }
    tokens.push_back(token);
  }
  return true;
}

Mutator::Mutator(uint64_t seed, size_t max_len, std::vector<std::string> dictionary)
    : rng_(seed), max_len_(max_len), dictionary_(std::move(dictionary)) {}

void Mutator::mutate(std::string& input, const std::vector<std::string>& pool) {
  const size_t edits = 1 + below(6);
  for (size_t i = 0; i < edits; ++i) mutate_once(input, pool);
  if (input.size() > max_len_) input.resize(max_len_);
}

size_t Mutator::run_length() {
  const double exponent = std::uniform_real_distribution<double>(0.0, 5.0)(rng_);
  return static_cast<size_t>(std::pow(10.0, exponent));
}

std::string Mutator::interesting_integer() {
  static const uint64_t values[] = {
      0, 1, 2, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff,
      0x80000000, 0xffffffff, 0x100000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull,
      ~0ull, 1ull << 40, 1ull << 20};
  uint64_t v = values[below(std::size(values))];
  if (below(4) == 0) v += below(3) - 1;  // off by one either way
  const size_t width = size_t{1} << below(4);  // 1, 2, 4 or 8 bytes
  const bool big_endian = below(2) == 0;
  std::string out(width, '\0');
  for (size_t i = 0; i < width; ++i) {
    out[big_endian ? width - 1 - i : i] = static_cast<char>((v >> (8 * i)) & 0xff);
  }
  return out;
}

void Mutator::insert(std::string& s, const std::string& what) {
  if (s.size() >= max_len_) return;
  s.insert(below(s.size() + 1), what.substr(0, max_len_ - s.size()));
}

void Mutator::replace_number(std::string& s) {
  // A random run of digits (with sign, fraction or exponent) becomes a nasty number.
  std::vector<std::pair<size_t, size_t>> numbers;
  for (size_t i = 0; i < s.size() && numbers.size() < 4096;) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) {
      ++i;
      continue;
    }
    size_t begin = i > 0 && s[i - 1] == '-' ? i - 1 : i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.' ||
                            s[i] == 'e' || s[i] == 'E' || s[i] == '+' || s[i] == '-')) {
      ++i;
    }
    numbers.emplace_back(begin, i - begin);
  }
  const std::string nasty = kNastyNumbers[below(std::size(kNastyNumbers))];
  if (numbers.empty()) {
    insert(s, nasty);
    return;
  }
  const auto [begin, length] = numbers[below(numbers.size())];
  s.replace(begin, length, nasty);
}

void Mutator::mutate_once(std::string& s, const std::vector<std::string>& pool) {
  switch (below(14)) {
    case 0:  // flip a bit
      if (!s.empty()) s[below(s.size())] ^= static_cast<char>(1u << below(8));
      break;
    case 1:  // set a byte
      if (!s.empty()) s[below(s.size())] = static_cast<char>(rng_());
      break;
    case 2: {  // insert random bytes
      std::string bytes(1 + below(8), '\0');
      for (char& c : bytes) c = static_cast<char>(rng_());
      insert(s, bytes);
      break;
    }
    case 3:  // delete a chunk
      if (!s.empty()) {
        const size_t at = below(s.size());
        s.erase(at, 1 + below(std::min<size_t>(s.size() - at, 64)));
      }
      break;
    case 4:  // duplicate a chunk somewhere else
      if (!s.empty()) {
        const size_t at = below(s.size());
        insert(s, s.substr(at, 1 + below(std::min<size_t>(s.size() - at, 256))));
      }
      break;
    case 5: {  // overwrite with an interesting integer (sizes, counts, offsets)
      const std::string v = interesting_integer();
      if (s.size() >= v.size()) s.replace(below(s.size() - v.size() + 1), v.size(), v);
      break;
    }
    case 6: {  // a long run of an opening bracket or key: nesting depth
      const std::string& unit = kRunUnits[below(std::size(kRunUnits))];
      std::string run;
      const size_t n = run_length();
      for (size_t i = 0; i < n && run.size() < max_len_; ++i) run += unit;
      insert(s, run);
      break;
    }
    case 7:
    case 8:
      replace_number(s);
      break;
    case 9:  // a dictionary token or a built-in one
      if (!dictionary_.empty() && below(4) != 0) {
        insert(s, dictionary_[below(dictionary_.size())]);
      } else {
        insert(s, kTokens[below(std::size(kTokens))]);
      }
      break;
    case 10:  // splice in a chunk of another input
      if (!pool.empty()) {
        const std::string& other = pool[below(pool.size())];
        if (!other.empty()) {
          const size_t at = below(other.size());
          insert(s, other.substr(at, 1 + below(other.size() - at)));
        }
      }
      break;
    case 11:  // truncate
      if (!s.empty()) s.resize(below(s.size()));
      break;
    case 12:  // swap two bytes
      if (s.size() >= 2) std::swap(s[below(s.size())], s[below(s.size())]);
      break;
    default: {  // overwrite a chunk with a copy of another part
      if (s.size() >= 2) {
        const size_t from = below(s.size());
        const size_t to = below(s.size());
        const size_t n = 1 + below(std::min(s.size() - from, s.size() - to));
        s.replace(to, n, s.substr(from, n));
      }
      break;
    }
  }
}

}  // namespace vitc::fuzz
