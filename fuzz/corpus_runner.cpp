// main() for the fuzz harnesses without libFuzzer (GCC builds): runs every given file (folders:
// every file under them) once, then with -max_total_time=N or -runs=N random mutations of them.
// libFuzzer's flag spelling; run_guard.h keeps crash, timeout and out-of-memory inputs.
#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "mutator.h"
#include "run_guard.h"

// A harness may bring its own mutator (libFuzzer's hook), which calls LLVMFuzzerMutate below.
extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) __attribute__((weak));

namespace {

struct Options {
  long runs = -1;             // mutated inputs to run (-1: no count limit)
  long max_total_time = 0;    // seconds (0: no time limit); with runs == -1 too: no mutation
  uint64_t seed = 0;          // 0: from the clock
  size_t max_len = 1 << 20;   // longest mutated input
  // Inputs run on a thread with this stack (not libFuzzer's 8 MiB main thread): without ASan's
  // bigger frames, deep recursion would need far bigger inputs to show.
  long stack_kb = 1024;
  std::string dict;
  vitc::fuzz::GuardOptions guard;
  std::vector<std::string> inputs;
  std::vector<std::string> tokens;                           // of the dictionary
  std::vector<std::pair<std::string, std::string>> corpus;  // path, bytes
};

vitc::fuzz::Mutator* g_mutator = nullptr;  // for LLVMFuzzerMutate
const std::vector<std::string>* g_pool = nullptr;

bool parse_flag(const std::string& arg, Options& o) {
  const size_t eq = arg.find('=');
  const std::string name = arg.substr(1, eq == std::string::npos ? std::string::npos : eq - 1);
  const std::string value = eq == std::string::npos ? "" : arg.substr(eq + 1);
  const long number = std::strtol(value.c_str(), nullptr, 10);
  if (name == "runs") o.runs = number;
  else if (name == "max_total_time") o.max_total_time = number;
  else if (name == "timeout") o.guard.timeout_s = number;
  else if (name == "rss_limit_mb") o.guard.rss_limit_mb = number;
  else if (name == "malloc_limit_mb") o.guard.malloc_limit_mb = number;
  else if (name == "artifact_prefix") o.guard.artifact_prefix = value;
  else if (name == "seed") o.seed = std::strtoull(value.c_str(), nullptr, 10);
  else if (name == "max_len") o.max_len = number > 0 ? number : o.max_len;
  else if (name == "stack_kb") o.stack_kb = number;
  else if (name == "dict") o.dict = value;
  else return false;
  return true;
}

std::string read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Reads the given files and every file under the given folders; false if one is neither.
bool load_corpus(Options& o) {
  for (const std::string& input : o.inputs) {
    std::error_code ec;
    if (std::filesystem::is_directory(input, ec)) {
      std::vector<std::string> files;
      for (const auto& e : std::filesystem::recursive_directory_iterator(input)) {
        if (e.is_regular_file()) files.push_back(e.path().string());
      }
      std::sort(files.begin(), files.end());
      for (const std::string& f : files) o.corpus.emplace_back(f, read_whole(f));
    } else if (std::filesystem::is_regular_file(input, ec)) {
      o.corpus.emplace_back(input, read_whole(input));
    } else {
      fprintf(stderr, "ERROR: '%s' is neither a file nor a folder\n", input.c_str());
      return false;
    }
  }
  return true;
}

// Random mutations of the corpus until -runs or -max_total_time is reached.
void mutate_and_run(const Options& o) {
  std::vector<std::string> pool;
  for (const auto& entry : o.corpus) pool.push_back(entry.second);
  if (pool.empty()) pool.emplace_back();
  const size_t seeds = pool.size();
  vitc::fuzz::Mutator mutator(o.seed, o.max_len, o.tokens);
  g_mutator = &mutator;
  g_pool = &pool;
  std::vector<uint8_t> buffer;
  std::string current;
  long next_report = 1024;
  for (long fuzz_runs = 0; o.runs < 0 || fuzz_runs < o.runs; ++fuzz_runs) {
    if (o.max_total_time > 0 && vitc::fuzz::elapsed_seconds() >= o.max_total_time) break;
    // Half the time a fresh seed, else keep mutating the last input (deeper changes).
    if (current.empty() || mutator.rng()() % 2 == 0) current = pool[mutator.rng()() % pool.size()];
    if (LLVMFuzzerCustomMutator != nullptr) {
      buffer.resize(std::max(o.max_len, current.size()));
      std::memcpy(buffer.data(), current.data(), current.size());
      const size_t n = LLVMFuzzerCustomMutator(buffer.data(), current.size(), buffer.size(),
                                               static_cast<unsigned int>(mutator.rng()()));
      current.assign(reinterpret_cast<const char*>(buffer.data()), n);
    } else {
      mutator.mutate(current, pool);
    }
    vitc::fuzz::run_guarded(current);
    // No coverage to guide: keep a few small mutants at random (big ones would fill memory).
    if (current.size() <= 65536 && mutator.rng()() % 64 == 0) {
      if (pool.size() < seeds + 1024) pool.push_back(current);
      else pool[seeds + mutator.rng()() % 1024] = current;
    }
    const long runs = vitc::fuzz::executed_runs();
    if (runs >= next_report) {
      const double seconds = vitc::fuzz::elapsed_seconds();
      fprintf(stderr, "#%ld\tpulse  exec/s: %.0f  time: %.0fs  rss: %ldMb\n", runs,
              runs / std::max(seconds, 0.001), seconds, vitc::fuzz::rss_mb());
      next_report *= 2;
    }
  }
}

// The input thread: the corpus once, then the mutations.
void* run_all(void* options) {
  const Options& o = *static_cast<const Options*>(options);
  vitc::fuzz::guard_this_thread();
  vitc::fuzz::run_guarded("");  // the empty input, as libFuzzer starts with
  for (const auto& [path, bytes] : o.corpus) {
    fprintf(stderr, "Running: %s\n", path.c_str());
    vitc::fuzz::run_guarded(bytes);
  }
  if (o.runs > 0 || (o.runs < 0 && o.max_total_time > 0)) mutate_and_run(o);
  return nullptr;
}

}  // namespace

// libFuzzer's mutation entry point, for custom mutators: the runner's own mutations.
extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  g_mutator->mutate(input, *g_pool);
  if (input.size() > max_size) input.resize(max_size);
  std::memcpy(data, input.data(), input.size());
  return input.size();
}

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.size() > 1 && arg[0] == '-') {
      if (!parse_flag(arg, o)) fprintf(stderr, "WARNING: unrecognized flag '%s'; ignored\n", argv[i]);
    } else {
      o.inputs.push_back(arg);
    }
  }
  if (o.seed == 0) {
    o.seed = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  }
  std::string error;
  if (!o.dict.empty() && !vitc::fuzz::read_dictionary(o.dict, o.tokens, error)) {
    fprintf(stderr, "ERROR: %s\n", error.c_str());
    return 1;
  }
  if (!load_corpus(o)) return 1;
  if (!vitc::fuzz::start_guard(o.guard, error)) {
    fprintf(stderr, "ERROR: %s\n", error.c_str());
    return 1;
  }
  fprintf(stderr, "INFO: fuzz runner (no libFuzzer): %zu inputs, seed %llu, %ld KiB stack\n",
          o.corpus.size(), static_cast<unsigned long long>(o.seed), o.stack_kb);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, static_cast<size_t>(std::max(o.stack_kb, 64L)) << 10);
  pthread_t thread;
  if (pthread_create(&thread, &attr, run_all, &o) != 0) {
    fprintf(stderr, "ERROR: cannot start the input thread\n");
    return 1;
  }
  pthread_join(thread, nullptr);
  fprintf(stderr, "Done %ld runs in %.0f second(s)\n", vitc::fuzz::executed_runs(),
          vitc::fuzz::elapsed_seconds());
  vitc::fuzz::finish_guard();
  return 0;
}
