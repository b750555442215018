// One declaration per setting: a struct's setting list drives its JSON and its range checks,
// which name the flag as typed (with the stage's prefix).
#include "util/settings.h"
#include "util/settings_from_json.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace vitc {
namespace {

struct Inner {
  double weight = 0.5;
  template <class Self, class V>
  static void visit_settings(Self& self, V& v) {
    v(Setting{"weight", "a weight", Range::closed(0, 1)}, self.weight);
  }
};

struct Example {
  int epochs = 3;
  double lr = 1e-3;
  bool flip = true;
  int gating = 50;
  double hidden = 0.9;
  Inner inner;
  Inner flat_inner;
  template <class Self, class V>
  static void visit_settings(Self& self, V& v) {
    v(Setting{"epochs", "epochs", Range::at_least(1)}, self.epochs);
    v(Setting{"lr", "learning rate", Range::positive()}, self.lr);
    v(Setting{"hflip", "flips", Range::any(), "augment_hflip"}, self.flip);
    v(Setting{"gating-interval", "interval", Range::at_least(1), nullptr, /*prefixed=*/false},
      self.gating);
    v(Setting{"gate-momentum", "momentum", Range::half_open(0, 1), nullptr, false,
              /*has_flag=*/false},
      self.hidden);
    v.nested("inner", self.inner);
    v.flat(self.flat_inner);
  }
};

TEST(Settings, JsonHasEveryKeyNestedAndFlat) {
  Example e;
  e.flat_inner.weight = 0.25;
  const nlohmann::json j = settings_to_json(e);
  const nlohmann::json expected = {{"epochs", 3},
                                   {"lr", 1e-3},
                                   {"augment_hflip", true},
                                   {"gating_interval", 50},
                                   {"gate_momentum", 0.9},
                                   {"inner", {{"weight", 0.5}}},
                                   {"weight", 0.25}};
  EXPECT_EQ(j, expected) << j.dump();
}

TEST(Settings, ValidationNamesTheFlagWithItsPrefix) {
  Example e;
  EXPECT_NO_THROW(validate_settings(e, "finetune-"));
  e.epochs = 0;
  EXPECT_EQ(test_support::error_of([&] { validate_settings(e, "finetune-"); }),
            "--finetune-epochs must be at least 1, got 0");
  e.epochs = 1;
  e.lr = 0;
  EXPECT_EQ(test_support::error_of([&] { validate_settings(e, "search-"); }),
            "--search-lr must be positive and finite, got 0");
  e.lr = std::nan("");
  EXPECT_NE(test_support::error_of([&] { validate_settings(e); }).find("--lr must be positive"),
            std::string::npos);
  e.lr = 1;
  e.gating = 0;  // a method's own flag is never prefixed
  EXPECT_EQ(test_support::error_of([&] { validate_settings(e, "search-"); }),
            "--gating-interval must be at least 1, got 0");
  e.gating = 1;
  e.hidden = 1;  // no flag: named by its key
  EXPECT_EQ(test_support::error_of([&] { validate_settings(e, "search-"); }),
            "gate_momentum must be in [0, 1) and finite, got 1");
  e.hidden = 0;
  e.inner.weight = 2;
  EXPECT_EQ(test_support::error_of([&] { validate_settings(e, "x-"); }),
            "--x-weight must be in [0, 1] and finite, got 2");
}

TEST(Settings, FromJsonSetsSettingsByKeyAndNamesTheRest) {
  Example e;
  const nlohmann::json values = {{"epochs", 9},           {"augment_hflip", false},
                                 {"inner", {{"weight", 0.75}}}, {"weight", 0.125},
                                 {"no_such_setting", 1}};
  EXPECT_EQ(settings_from_json(e, values), std::vector<std::string>{"no_such_setting"});
  EXPECT_EQ(e.epochs, 9);
  EXPECT_FALSE(e.flip);
  EXPECT_EQ(e.inner.weight, 0.75);
  EXPECT_EQ(e.flat_inner.weight, 0.125);
  EXPECT_EQ(e.lr, 1e-3);  // absent: unchanged
  Example copy;
  EXPECT_TRUE(settings_from_json(copy, settings_to_json(e)).empty());
  EXPECT_EQ(settings_to_json(copy), settings_to_json(e));
}

TEST(Settings, RangesDescribeThemselves) {
  EXPECT_EQ(Range::at_least(1).describe(), "at least 1");
  EXPECT_EQ(Range::positive().describe(), "positive");
  EXPECT_EQ(Range::half_open(0, 1).describe(), "in [0, 1)");
  EXPECT_EQ((Range{0, 1, true, false}).describe(), "in (0, 1]");
  EXPECT_TRUE(Range::half_open(0, 1).contains(0));
  EXPECT_FALSE(Range::half_open(0, 1).contains(1));
  EXPECT_FALSE(Range::positive().contains(0));
  EXPECT_TRUE(Range::any().contains(-1e300));
}

}  // namespace
}  // namespace vitc
