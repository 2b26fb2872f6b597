#include "wire/metrics/request_metrics.h"

#include <mutex>

namespace postbox::wire {

void RequestMetrics::Observe(std::string_view service, std::string_view action, ErrorCode code,
                             int64_t micros) {
  PerAction* counters = nullptr;
  {
    std::shared_lock lock(mu_);
    auto it = actions_.find(std::pair(service, action));
    if (it != actions_.end()) counters = it->second.get();
  }
  if (counters == nullptr) {
    std::unique_lock lock(mu_);
    auto& slot = actions_[Key(service, action)];
    if (!slot) slot = std::make_unique<PerAction>();
    counters = slot.get();  // never freed while the server runs: safe without the lock
  }
  counters->by_code[size_t(code)].Add();
  counters->latency.ObserveMicros(micros);
}

void RequestMetrics::Write(PrometheusText& out) const {
  std::shared_lock lock(mu_);
  out.Family("postbox_requests_total", "counter",
             "API requests answered, by service, action and outcome (ok or the error code).");
  for (const auto& [key, counters] : actions_) {
    for (size_t code = 0; code < kCodes; ++code) {
      const uint64_t n = counters->by_code[code].value();
      if (n == 0) continue;
      const char* outcome = code == 0 ? "ok" : ErrorCodeName(ErrorCode(code));
      out.Sample("postbox_requests_total",
                 {{"service", key.first}, {"action", key.second}, {"outcome", outcome}}, n);
    }
  }
  out.Family("postbox_request_seconds", "histogram",
             "Time from a request read to its answer ready, by service and action.");
  for (const auto& [key, counters] : actions_) {
    out.HistogramSamples("postbox_request_seconds",
                         {{"service", key.first}, {"action", key.second}},
                         counters->latency.Read());
  }
}

}  // namespace postbox::wire
