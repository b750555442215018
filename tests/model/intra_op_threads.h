// Sets torch's intra-op threads for the lifetime of a scope (one test) and restores them.
#pragma once

#include <ATen/Parallel.h>

namespace vitc::test {

class IntraOpThreads {
 public:
  explicit IntraOpThreads(int n) : before_(at::get_num_threads()) { at::set_num_threads(n); }
  ~IntraOpThreads() { at::set_num_threads(before_); }
  IntraOpThreads(const IntraOpThreads&) = delete;
  IntraOpThreads& operator=(const IntraOpThreads&) = delete;

 private:
  int before_;
};

}  // namespace vitc::test
