// MACs and parameter budgets shared by every method: fractions, percentages and absolute counts,
// and errors that name the flag.
#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "compress/common/budget.h"
#include "model/complexity.h"
#include "util/error.h"
#include "test_support.h"

namespace vitc {
namespace {

// The --macs and --params texts of a command (no --latency).
BudgetTexts texts(const std::string& macs, const std::string& params) {
  BudgetTexts t;
  t.macs = macs;
  t.params = params;
  return t;
}


using test_support::error_of;

TEST(Budget, ParsesFractionsPercentagesAndCounts) {
  EXPECT_TRUE(parse_macs_target("0.5").is_fraction);
  EXPECT_DOUBLE_EQ(parse_macs_target("0.5").value, 0.5);
  EXPECT_DOUBLE_EQ(parse_macs_target("40%").value, 0.4);
  EXPECT_TRUE(parse_macs_target("40%").is_fraction);
  EXPECT_DOUBLE_EQ(parse_macs_target("1").value, 1.0);
  const Budget m = parse_macs_target("11.1M");
  EXPECT_FALSE(m.is_fraction);
  EXPECT_DOUBLE_EQ(m.value, 11.1e6);
  EXPECT_FALSE(parse_macs_target("2500000").is_fraction);
  EXPECT_EQ(parse_macs_target("2.5G").resolve(0), 2500000000);
  EXPECT_EQ(parse_macs_target("0.25").resolve(1000), 250);
  EXPECT_NE(error_of([] { parse_macs_target("half"); }).find("--macs"), std::string::npos);
  EXPECT_THROW(parse_macs_target(""), Error);
  EXPECT_THROW(parse_macs_target("0"), Error);
  EXPECT_THROW(parse_macs_target("-0.5"), Error);
  EXPECT_THROW(parse_macs_target("150%"), Error);
  EXPECT_THROW(parse_macs_target("0.5x"), Error);
  // A mistyped fraction is not a tiny absolute budget.
  EXPECT_NE(error_of([] { parse_macs_target("70"); }).find("'70%'"), std::string::npos);
  EXPECT_THROW(parse_macs_target("1.5"), Error);
  EXPECT_EQ(parse_macs_target("1k").resolve(0), 1000);
  // Commands with another flag name get it in the message.
  EXPECT_NE(error_of([] { parse_macs_target("most", "--budget"); }).find("--budget: cannot read 'most'"),
            std::string::npos);
}

TEST(Budget, CompactMacsIsTheComplexityOfTheCompactConfig) {
  const ViTConfig config = named_config("fm_tiny");
  Structure s = dense_structure(config);
  EXPECT_EQ(compact_macs(config, s), compute_complexity(config).macs());
  s.blocks[1].skip = true;
  s.blocks[1].heads.clear();
  s.blocks[1].mlp.clear();
  EXPECT_EQ(compact_macs(config, s), compute_complexity(compact_config(config, s)).macs());
  EXPECT_LT(compact_macs(config, s), compute_complexity(config).macs());
  EXPECT_EQ(compact_cost(config, s, Resource::params),
            compute_complexity(compact_config(config, s)).params());
  EXPECT_EQ(source_cost(config, Resource::params), compute_complexity(config).params());
  EXPECT_EQ(source_cost(config, Resource::macs), compute_complexity(config).macs());
}

// --params: the same forms as --macs, counting parameters, named in messages; a command takes
// one of --macs / --params.
TEST(Budget, ParameterBudgetsAndTheChoiceBetweenTheTwoFlags) {
  const Budget p = parse_budget("2.1M", Resource::params, "--params");
  EXPECT_EQ(p.resource, Resource::params);
  EXPECT_FALSE(p.is_fraction);
  EXPECT_EQ(p.resolve(0), 2100000);
  EXPECT_EQ(p.to_string(), "2100000 parameters");
  EXPECT_EQ(parse_budget("40%", Resource::params, "--params").to_string(),
            "0.4 of the teacher's parameters");
  EXPECT_NE(error_of([] { parse_budget("70", Resource::params, "--params"); })
                .find("plausible absolute count (at least 1000 parameters)"),
            std::string::npos);
  EXPECT_EQ(parse_budget_flags(texts("0.5", "")).resource, Resource::macs);
  const Budget from_params = parse_budget_flags(texts("", "50%"));
  EXPECT_EQ(from_params.resource, Resource::params);
  EXPECT_DOUBLE_EQ(from_params.value, 0.5);
  EXPECT_NE(error_of([] { parse_budget_flags(texts("0.5", "0.5")); }).find("several budgets were given"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_budget_flags(texts("", "")); }).find("--macs"), std::string::npos);
  EXPECT_NE(error_of([] { parse_budget_flags(texts("", "half")); }).find("--params: cannot read 'half'"),
            std::string::npos);
}

}  // namespace
}  // namespace vitc
