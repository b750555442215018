// Command-line flags from an options struct's setting list (util/settings.h): every setting
// becomes `--<prefix><name>` with its help and default shown, checked against its range when
// parsed; a yes/no setting becomes the pair `--<name>` / `--no-<name>`, whatever its default.
#pragma once

#include <cmath>
#include <cstdlib>
#include <string>
#include <type_traits>

#include <CLI/CLI.hpp>

#include "util/settings.h"

namespace vitc::app {

namespace setting_flags_detail {

// A CLI11 check of a number against a setting's range ("" = accepted).
inline CLI::Validator range_check(const Range& range) {
  return CLI::Validator(
      [range](std::string& text) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (end == text.c_str() || *end != '\0') return "expected a number, got '" + text + "'";
        if (!std::isfinite(v) || !range.contains(v))
          return "must be " + range.describe() + ", got " + text;
        return std::string();
      },
      range.describe());
}

struct AddFlags {
  CLI::App& cmd;
  std::string prefix;       // "finetune-", "search-", ...
  std::string help_prefix;  // "stage-2 ", ...

  template <class T>
  void operator()(const Setting& s, T& value) {
    if (!s.has_flag) return;
    const std::string help = help_prefix + s.help;
    if constexpr (std::is_same_v<T, bool>) {
      const std::string off = "--" + (s.prefixed ? prefix : std::string()) + "no-" + s.name;
      cmd.add_flag(s.flag(prefix) + ",!" + off, value,
                   help + (value ? " (default: on; " + off + " turns it off)" : " (default: off)"));
    } else {
      CLI::Option* option = cmd.add_option(s.flag(prefix), value, help)->capture_default_str();
      if (s.range.lo != -INFINITY || s.range.hi != INFINITY) option->check(range_check(s.range));
    }
  }
  template <class Group>
  void nested(const char*, Group& group) { Group::visit_settings(group, *this); }
  template <class Group>
  void flat(Group& group) { Group::visit_settings(group, *this); }
};

}  // namespace setting_flags_detail

// A flag's old name, hidden from --help, that fails naming the new one, so that old scripts stop
// with a clear message instead of an "unknown option". `takes_value`: the old flag had a value.
inline void add_renamed_flag(CLI::App& cmd, const std::string& old_name,
                             const std::string& new_name, bool takes_value = false,
                             const std::string& note = "") {
  const std::string message = "is now " + new_name + note;
  if (takes_value)
    cmd.add_option_function<std::string>(
           old_name, [old_name, message](const std::string&) {
             throw CLI::ValidationError(old_name, message);
           })
        ->group("");
  else
    cmd.add_flag_function(
           old_name, [old_name, message](int64_t) { throw CLI::ValidationError(old_name, message); })
        ->group("");
}

// Registers the settings of `options` (which must outlive the parse) as flags of `cmd`.
template <class Options>
void add_setting_flags(CLI::App& cmd, Options& options, const std::string& prefix = "",
                       const std::string& help_prefix = "") {
  setting_flags_detail::AddFlags visitor{cmd, prefix, help_prefix};
  Options::visit_settings(options, visitor);
}

}  // namespace vitc::app
