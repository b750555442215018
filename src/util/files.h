// File helpers: whole-file reads and atomic writes (temporary file, then rename).
#pragma once

#include <functional>
#include <iosfwd>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace vitc {

// Reads a whole file; throws vitc::Error naming the path if it cannot.
std::string read_file(const std::string& path);

// Writes through `writer` into `path`.tmp.<pid> in the same directory, flushes, fsyncs and renames
// it over `path`. An interrupted or failed write leaves any previous `path` untouched.
void atomic_write(const std::string& path, const std::function<void(std::ostream&)>& writer);
void atomic_write_string(const std::string& path, const std::string& contents);

// JSON with a 2-space indent, written atomically.
void write_json(const std::string& path, const nlohmann::json& value);
// Parses a JSON file (parse_json_text: bounded nesting); a missing file or a syntax error names
// the path.
nlohmann::json read_json(const std::string& path);

// Writes a directory `<parent>/<name>` through `writer` (given the directory to fill) so that a
// crash at any point leaves a complete copy in either <name> or <name>.old: it is filled as
// <name>.new, then swapped in by two renames.
void replace_directory(const std::string& parent, const std::string& name,
                       const std::function<void(const std::string& dir)>& writer);
// The complete directory replace_directory left: <name> if `marker` exists in it, else
// <name>.old if it does there, else "".
std::string find_complete_directory(const std::string& parent, const std::string& name,
                                    const std::string& marker);

// Creates a directory and its parents; throws vitc::Error if it cannot.
void make_dirs(const std::string& path);
bool file_exists(const std::string& path);

}  // namespace vitc
