// Environment facts for run.json.
#include "util/run_info.h"

#include <unistd.h>

#include <ctime>

#include <torch/version.h>

#include "util/threads.h"

namespace vitc {

std::string utc_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

nlohmann::json environment_json(const std::string& threads_description) {
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  return {{"vitc_version", kVitcVersion},
          {"torch_version", TORCH_VERSION},
          {"blas", blas_description()},
          {"threads", threads_description},
          {"cores", hardware_cores()},
          {"host", host},
          {"started_at", utc_timestamp()}};
}

}  // namespace vitc
