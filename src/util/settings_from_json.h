// Setting an options struct's settings from JSON by key (util/settings.h): how one stage's
// settings become another's where they share names, e.g. the few-shot finetuning's
// (MimicOptions) becoming the shared trainer's (TrainOptions), without a field-by-field copy.
#pragma once

#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/settings.h"

namespace vitc {

namespace settings_detail {

struct FromJson {
  const nlohmann::json& in;
  std::set<std::string>& used;

  template <class T>
  void operator()(const Setting& s, T& value) {
    const auto it = in.find(s.key());
    if (it == in.end()) return;
    value = it->template get<T>();
    used.insert(s.key());
  }
  template <class Group>
  void nested(const char* key, Group& group) {
    const auto it = in.find(key);
    if (it == in.end()) return;
    std::set<std::string> inner;
    FromJson visitor{*it, inner};
    Group::visit_settings(group, visitor);
    used.insert(key);
  }
  template <class Group>
  void flat(Group& group) { Group::visit_settings(group, *this); }
};

}  // namespace settings_detail

// Sets every setting of `options` whose key `values` holds (values as settings_to_json writes
// them) and returns the keys of `values` that no setting took, so that a caller can insist that
// nothing was dropped.
template <class Options>
std::vector<std::string> settings_from_json(Options& options, const nlohmann::json& values) {
  std::set<std::string> used;
  settings_detail::FromJson visitor{values, used};
  Options::visit_settings(options, visitor);
  std::vector<std::string> unused;
  for (auto it = values.begin(); it != values.end(); ++it)
    if (used.count(it.key()) == 0) unused.push_back(it.key());
  return unused;
}

}  // namespace vitc
