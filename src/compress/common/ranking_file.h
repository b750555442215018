// The ranking files the few-shot methods keep (DC-ViT's ranking.json, PRACTISE's
// practise_ranking.json): written once by rank 0, read back by --resume and --ranking DIR.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "dist/group.h"

namespace vitc {

// Reads <dir>/<file>. `parse` fills the caller's ranking from the JSON and returns how many
// candidates it holds. A missing file, a JSON error inside `parse` ("<path>: not a <what> ranking
// (...)") and a ranking without candidates are refused, naming the file.
void read_ranking_file(const std::string& dir, const std::string& file, const std::string& what,
                       const std::function<size_t(const nlohmann::json&)>& parse);

// Rank 0 writes `ranking` to `path`; every rank returns once it is on disk.
void write_ranking_file(dist::Group* group, const std::string& path,
                        const nlohmann::json& ranking);

}  // namespace vitc
