// PrometheusText: writes metrics in the Prometheus text exposition format (version 0.0.4),
// which Prometheus scrapes from GET /metrics.
//
// Each family is announced once with HELP and TYPE, then its samples follow; label values are
// escaped (backslash, double quote, newline) as the format requires.
// Thread-safety: none; one writer per scrape.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/metrics.h"

namespace postbox::wire {

using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

class PrometheusText {
 public:
  // Announces a family: `type` is "counter", "gauge" or "histogram".
  void Family(std::string_view name, std::string_view type, std::string_view help);
  void Sample(std::string_view name, const Labels& labels, double value);
  void Sample(std::string_view name, const Labels& labels, uint64_t value);
  void Sample(std::string_view name, const Labels& labels, int64_t value);
  // The _bucket, _sum and _count samples of a histogram family announced as `name`.
  void HistogramSamples(std::string_view name, const Labels& labels,
                        const Histogram::Snapshot& histogram);

  std::string Take() { return std::move(out_); }

  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  void Begin(std::string_view name, const Labels& labels, std::string_view extra_label = {},
             std::string_view extra_value = {});

  std::string out_;
};

}  // namespace postbox::wire
