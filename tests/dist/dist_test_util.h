// Running `vitc` as cooperating processes in tests: temporary directories, a free loopback port,
// processes started concurrently and their output and exit codes.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "test_support.h"
#include "io/safetensors.h"

namespace dist_test {

using vitc::test_support::absent_dir;

// A TCP port that was free a moment ago (the kernel's choice for port 0).
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A running `vitc` process with its output (stdout and stderr) on a pipe.
struct Running {
  FILE* pipe = nullptr;
};

inline Running start_vitc(const std::string& args) {
  const char* bin = std::getenv("VITC_BIN");
  EXPECT_NE(bin, nullptr) << "VITC_BIN is set by CTest";
  const std::string command = std::string(bin ? bin : "vitc") + " " + args + " 2>&1";
  Running r;
  r.pipe = ::popen(command.c_str(), "r");
  EXPECT_NE(r.pipe, nullptr);
  return r;
}

struct Outcome {
  int exit_code = -1;
  std::string output;
};

inline Outcome finish(Running r) {
  Outcome o;
  std::array<char, 4096> buf{};
  while (r.pipe != nullptr && std::fgets(buf.data(), buf.size(), r.pipe) != nullptr) o.output += buf.data();
  const int status = r.pipe != nullptr ? ::pclose(r.pipe) : -1;
  o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

// The --dist-* flags of rank `rank` of 2 on loopback at `port`.
inline std::string dist_flags(int port, int rank) {
  return " --dist-world-size 2 --dist-master-addr 127.0.0.1 --dist-timeout 60 --dist-master-port " +
         std::to_string(port) + " --dist-rank " + std::to_string(rank);
}

// Runs `args` (a vitc command line without --dist-*) as ranks 0 and 1 concurrently.
struct PairOutcome {
  Outcome rank0, rank1;
};
inline PairOutcome run_pair(const std::string& args) {
  const int port = free_port();
  Running r0 = start_vitc(args + dist_flags(port, 0));
  Running r1 = start_vitc(args + dist_flags(port, 1));
  PairOutcome o;
  o.rank0 = finish(r0);
  o.rank1 = finish(r1);
  return o;
}

// The comparison every method's test makes: `args(single_out, 32)` as one process, then
// `args(pair_out, 16)` as ranks 0 and 1 (the same 32 images per step between them). `ok` is true
// when all three exit 0; if `lead_marker` is not empty, only rank 0 may print it (the other ranks
// report nothing). Failures are recorded as test failures.
struct OneAndPair {
  Outcome one;
  PairOutcome two;
  bool ok = false;
};
inline OneAndPair run_one_and_pair(const std::function<std::string(const std::string&, int)>& args,
                                   const std::string& single_out, const std::string& pair_out,
                                   const std::string& lead_marker = "") {
  OneAndPair r;
  r.one = finish(start_vitc(args(single_out, 32)));
  EXPECT_EQ(r.one.exit_code, 0) << r.one.output;
  if (r.one.exit_code != 0) return r;
  r.two = run_pair(args(pair_out, 16));
  EXPECT_EQ(r.two.rank0.exit_code, 0) << r.two.rank0.output;
  EXPECT_EQ(r.two.rank1.exit_code, 0) << r.two.rank1.output;
  r.ok = r.two.rank0.exit_code == 0 && r.two.rank1.exit_code == 0;
  if (!lead_marker.empty()) {
    EXPECT_NE(r.two.rank0.output.find(lead_marker), std::string::npos) << r.two.rank0.output;
    EXPECT_EQ(r.two.rank1.output.find(lead_marker), std::string::npos) << r.two.rank1.output;
  }
  return r;
}

// A briefly trained fm_tiny teacher (8 steps on 256 Fashion-MNIST images) in `dir`, by `vitc train`.
inline void make_teacher(const std::string& dir) {
  const Outcome o = finish(start_vitc(
      "train --model fm_tiny --init-seed 3 --epochs 1 --max-steps-per-epoch 8 --warmup-epochs 0 "
      "--lr 1e-3 --train-subset 256 --eval-subset 64 --batch-size 32 --threads 1 --quiet --out " +
      dir));
  ASSERT_EQ(o.exit_code, 0) << o.output;
}

// |a - b| over the tensors of two safetensors files that hold the same names (a missing name is
// a test failure): the largest and the mean over all elements.
struct FileDiff {
  double max = 0, mean = 0;
  int64_t elements = 0;
};
inline FileDiff safetensors_diff(const std::string& a_path, const std::string& b_path) {
  const auto a = vitc::read_safetensors(a_path).tensors;
  const auto b = vitc::read_safetensors(b_path).tensors;
  EXPECT_EQ(a.size(), b.size()) << a_path << " vs " << b_path;
  FileDiff d;
  double sum = 0;
  for (const auto& [name, ta] : a) {
    EXPECT_TRUE(b.count(name)) << name << " is missing from " << b_path;
    if (!b.count(name) || ta.numel() == 0) continue;
    const at::Tensor diff = (ta.to(at::kDouble) - b.at(name).to(at::kDouble)).abs();
    d.max = std::max(d.max, diff.max().item<double>());
    sum += diff.sum().item<double>();
    d.elements += diff.numel();
  }
  d.mean = d.elements > 0 ? sum / static_cast<double>(d.elements) : 0.0;
  return d;
}

}  // namespace dist_test
