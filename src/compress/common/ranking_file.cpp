// Reading and writing the few-shot methods' ranking files.
#include "compress/common/ranking_file.h"

#include "compress/common/data_parallel.h"
#include "util/error.h"
#include "util/files.h"

namespace vitc {

void read_ranking_file(const std::string& dir, const std::string& file, const std::string& what,
                       const std::function<size_t(const nlohmann::json&)>& parse) {
  const std::string path = dir + "/" + file;
  check(file_exists(path), "no ", what, " ranking in '", dir, "': ", path, " is missing");
  const nlohmann::json j = read_json(path);
  size_t candidates = 0;
  try {
    candidates = parse(j);
  } catch (const nlohmann::json::exception& e) {
    fail(path, ": not a ", what, " ranking (", e.what(), ")");
  }
  check(candidates > 0, path, ": the ranking has no candidates");
}

void write_ranking_file(dist::Group* group, const std::string& path,
                        const nlohmann::json& ranking) {
  if (is_lead(group)) write_json(path, ranking);
  barrier(group);  // the ranking is on disk when any rank returns
}

}  // namespace vitc
