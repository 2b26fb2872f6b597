// Counter, Gauge and Histogram: the lock-free values /metrics reports (Prometheus text format,
// wire/metrics/). Each layer keeps its own as plain members and the exporter reads them; no
// global registry, so a test can make as many servers' worth as it likes.
// Thread-safety: every method is safe from any thread; reads are not a consistent snapshot
// across values (Prometheus does not need one).
#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <vector>

namespace postbox {

class Counter {
 public:
  void Add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void Add(int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// Observations counted in fixed buckets (upper bounds, ascending), plus their count and sum.
class Histogram {
 public:
  // Seconds from 50 µs to 10 s: request and fsync latencies.
  static std::vector<double> LatencyBuckets();
  // 1, 2, 4, ... 1024: how many things shared one write.
  static std::vector<double> SizeBuckets();

  explicit Histogram(std::vector<double> upper_bounds = LatencyBuckets());
  void Observe(double value);
  void ObserveMicros(int64_t micros) { Observe(double(micros) / 1e6); }

  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<uint64_t> cumulative;  // observations <= each bound
    uint64_t count = 0;
    double sum = 0;
  };
  Snapshot Read() const;

 private:
  const std::vector<double> bounds_;
  std::vector<std::atomic<uint64_t>> buckets_;  // one per bound, plus +Inf
  std::atomic<double> sum_{0};
};

}  // namespace postbox
