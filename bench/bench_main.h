// What every benchmark program's main shares: bad input or a failure ends in "error: <what>" on
// stderr and exit status 1, never in std::terminate.
#pragma once

#include <cstdio>
#include <exception>

namespace vitc::bench {

template <class Body>
int report_errors(Body&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}

}  // namespace vitc::bench
