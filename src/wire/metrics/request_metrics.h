// RequestMetrics: API requests by service, action and outcome, with their latencies, for
// /metrics (postbox_requests_total, postbox_request_seconds).
//
// The label sets are bounded: a service is "sqs" or "sns", an action is one the front-end
// knows (anything else is counted as "unknown"), an outcome is "ok" or an ErrorCode name.
// Thread-safety: Observe is called from every I/O thread; an action's counters are found
// under a shared lock and counted with atomics.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "base/metrics.h"
#include "base/status.h"
#include "wire/metrics/prometheus_text.h"

namespace postbox::wire {

class RequestMetrics {
 public:
  // `action` must come from a fixed set (the caller says "unknown" for others).
  void Observe(std::string_view service, std::string_view action, ErrorCode code, int64_t micros);
  void Write(PrometheusText& out) const;

 private:
  static constexpr size_t kCodes = size_t(ErrorCode::kInternal) + 1;
  struct PerAction {
    std::array<Counter, kCodes> by_code;
    Histogram latency;
  };
  using Key = std::pair<std::string, std::string>;  // service, action
  // Compares keys with (service, action) views, so a lookup builds no strings.
  struct KeyLess {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return std::pair<std::string_view, std::string_view>(a.first, a.second) <
             std::pair<std::string_view, std::string_view>(b.first, b.second);
    }
  };

  mutable std::shared_mutex mu_;
  std::map<Key, std::unique_ptr<PerAction>, KeyLess> actions_;
};

}  // namespace postbox::wire
