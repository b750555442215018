// Whole-file reads and crash-safe writes.
#include "util/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "util/error.h"
#include "util/json_read.h"

namespace vitc {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  check(static_cast<bool>(in), "cannot open '", path, "': ", std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  check(!in.bad(), "error while reading '", path, "'");
  return buffer.str();
}

void atomic_write(const std::string& path, const std::function<void(std::ostream&)>& writer) {
  const std::string tmp = str_cat(path, ".tmp.", ::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    check(static_cast<bool>(out), "cannot create '", tmp, "': ", std::strerror(errno));
    try {
      writer(out);
      out.flush();
      check(static_cast<bool>(out), "error while writing '", tmp, "'");
    } catch (...) {
      out.close();
      std::remove(tmp.c_str());
      throw;
    }
  }
  // fsync so that a crash after the rename cannot expose an empty file.
  int fd = ::open(tmp.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(tmp.c_str());
    fail("cannot rename '", tmp, "' to '", path, "': ", reason);
  }
}

void atomic_write_string(const std::string& path, const std::string& contents) {
  atomic_write(path, [&](std::ostream& out) { out.write(contents.data(), contents.size()); });
}

void write_json(const std::string& path, const nlohmann::json& value) {
  atomic_write_string(path, value.dump(2) + "\n");
}

nlohmann::json read_json(const std::string& path) {
  return parse_json_text(read_file(path), path);
}

void make_dirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  check(!ec, "cannot create directory '", path, "': ", ec.message());
}

void replace_directory(const std::string& parent, const std::string& name,
                       const std::function<void(const std::string& dir)>& writer) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(parent) / name;
  const fs::path fresh = fs::path(parent) / (name + ".new");
  const fs::path old = fs::path(parent) / (name + ".old");
  fs::remove_all(fresh);
  writer(fresh.string());
  fs::remove_all(old);
  if (fs::exists(dir)) fs::rename(dir, old);
  fs::rename(fresh, dir);
  fs::remove_all(old);
}

std::string find_complete_directory(const std::string& parent, const std::string& name,
                                    const std::string& marker) {
  for (const std::string& candidate : {name, name + ".old"}) {
    const std::string dir = parent + "/" + candidate;
    if (file_exists(dir + "/" + marker)) return dir;
  }
  return "";
}

bool file_exists(const std::string& path) { return std::filesystem::exists(path); }

}  // namespace vitc
