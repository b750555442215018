// Untrusted JSON: bounded nesting, clipped value descriptions, strict integers and numbers.
#include <gtest/gtest.h>

#include "test_support.h"
#include "util/files.h"
#include "util/json_read.h"

namespace vitc {
namespace {

using test_support::error_of;
using test_support::expect_error;

TEST(JsonRead, RefusesDeepNestingBeforeParsing) {
  for (const std::string& open : {std::string("["), std::string("{\"a\":")}) {
    std::string text;
    for (int i = 0; i < 200000; ++i) text += open;
    expect_error([&] { parse_json_text(text, "deep.json"); },
                 {"'deep.json'", "nests deeper than 64 levels", "at byte"});
  }
  // 64 levels are fine; brackets inside strings do not count.
  const std::string ok = std::string(64, '[') + std::string(64, ']');
  EXPECT_TRUE(parse_json_text(ok, "ok.json").is_array());
  const std::string quoted = "{\"a\": \"" + std::string(1000, '[') + "\\\"[[[\"}";
  EXPECT_TRUE(parse_json_text(quoted, "q.json").is_object());
}

TEST(JsonRead, HugeNumbersAndSyntaxErrorsNameTheFile) {
  expect_error([] { parse_json_text("{\"img_size\": 1e999}", "m.json"); },
               {"'m.json'", "not valid JSON", "1e999"});
  expect_error([] { parse_json_text("{\"a\": ", "m.json"); }, {"'m.json'", "not valid JSON"});
  expect_error([] { parse_json_text("[", "h.safetensors", "the safetensors header"); },
               {"'h.safetensors': the safetensors header is not valid JSON"});
}

TEST(JsonRead, BriefIsBoundedWhateverTheValue) {
  nlohmann::json big = nlohmann::json::array();
  for (int i = 0; i < 100000; ++i) big.push_back(i);
  const std::string brief = json_brief(big);
  EXPECT_LT(brief.size(), 200u) << brief;
  EXPECT_NE(brief.find("an array of 100000 elements"), std::string::npos) << brief;
  EXPECT_EQ(json_brief(nlohmann::json(28.9)), "28.9");
  EXPECT_LT(json_brief(nlohmann::json(std::string(10000, 'x'))).size(), 200u);
  nlohmann::json nested = 1;
  for (int i = 0; i < 60; ++i) nested = nlohmann::json::array({nested});
  EXPECT_LT(json_brief(nested).size(), 200u);
}

TEST(JsonRead, FieldsRefuseTruncationAndNameThePath) {
  const nlohmann::json j = nlohmann::json::parse(
      R"({"a": 28.9, "b": 4294967324, "c": 28.0, "d": -1, "e": "x", "f": [1, 2.5], "g": [0, 1e308],
          "h": true, "n": null})");
  const JsonFields f(j, "m.json", "config.");
  expect_error([&] { f.integer("a", 1, 100); },
               {"m.json", "key 'config.a' is 28.9", "an integer in [1, 100]"});
  expect_error([&] { f.integer32("b", 1, 8192); }, {"key 'config.b' is 4294967324"});
  EXPECT_EQ(f.integer("c", 1, 100), 28);  // an integral float is the integer it spells
  expect_error([&] { f.integer("d", 0, 10); }, {"key 'config.d' is -1"});
  expect_error([&] { f.integer("e", 0, 10); }, {"key 'config.e' is \"x\""});
  expect_error([&] { f.integers("f", 0, 10, 5); }, {"key 'config.f[1]' is 2.5"});
  expect_error([&] { f.integers("f", 0, 10, 1); }, {"key 'config.f'", "at most 1 elements"});
  EXPECT_EQ(f.numbers("g", 4)[1], 1e308);
  EXPECT_TRUE(f.boolean("h"));
  expect_error([&] { f.number("n"); }, {"key 'config.n' is null", "a finite number"});
  expect_error([&] { f.string("missing"); }, {"m.json: missing key 'config.missing'"});
  expect_error([&] { JsonFields(nlohmann::json::array(), "m.json", "config."); },
               {"'config' must be a JSON object"});
}

TEST(JsonRead, ReadJsonUsesTheBoundedParser) {
  const std::string dir = test_support::fresh_dir("json_read");
  const std::string path = dir + "/deep.json";
  test_support::write_text(path, std::string(100000, '[') + std::string(100000, ']'));
  const std::string message = error_of([&] { read_json(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("nests deeper"), std::string::npos) << message;
}

}  // namespace
}  // namespace vitc
