// What a run.json records about where and how it ran: versions, BLAS, threads, host, time.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace vitc {

inline constexpr const char* kVitcVersion = "0.1.0";

// {"vitc_version", "torch_version", "blas", "threads", "cores", "host", "started_at" (UTC ISO 8601)}
nlohmann::json environment_json(const std::string& threads_description);

// Current UTC time as "2026-11-23T19:20:00Z".
std::string utc_timestamp();

}  // namespace vitc
