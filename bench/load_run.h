// What the load generators share: how a run is driven (one thread, bounded by a watchdog),
// what it counts and the one JSON line it prints at the end. postbox-loadgen (SQS over HTTP)
// and postbox-loadgen-redis (the Redis streams peer) report the same fields, so
// bench/run_bench.sh compares them directly.
#pragma once

// clang-format off
#include <utility>  // Asio's awaitable uses std::exchange without including it
// clang-format on

#include <algorithm>
#include <boost/asio.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace postbox::bench {

namespace asio = boost::asio;

using Clock = std::chrono::steady_clock;

struct Totals {
  int64_t sent = 0;
  int64_t received = 0;
  int64_t errors = 0;
  int64_t receives = 0;  // receive calls that returned at least one message
  std::vector<int64_t> latencies_us;
};

// Message bodies start with this clock's reading at send time, as 20 decimal digits.
inline int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch())
      .count();
}

// Producers call this while too many sent messages are not yet received.
inline asio::awaitable<void> WaitAMillisecond(asio::steady_timer& timer) {
  timer.expires_after(std::chrono::milliseconds(1));
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

// Suspends the caller until the run stops (io.stop()), keeping alive what its frame owns,
// such as the connections the loops use.
inline asio::awaitable<void> WaitUntilStopped(asio::io_context& io) {
  asio::steady_timer forever(io, std::chrono::hours(1));
  boost::system::error_code ec;
  co_await forever.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

// The run's shape, echoed in the report.
struct Shape {
  bool fifo = false;
  const char* protocol = "json";  // what the load generator speaks: json, query, redis
  int fanout = 0;
  int seconds = 10;
  int size = 1024;
  int producers = 4;
  int consumers = 4;
  int batch = 10;  // messages per send call (1..10)
  int rate = 0;    // messages per second over all producers; 0 = as fast as the server answers
};

// Paces one producer of a rate-limited run: its sends are spread evenly over the second, the
// producers' schedules interleaved, so that latency is measured at a steady light load rather
// than in bursts. A producer that falls behind sends at once (the run then reports a lower
// rate); it never sends ahead of its schedule.
class Pacer {
 public:
  Pacer(const Shape& shape, int producer) {
    if (shape.rate <= 0) return;
    interval_ = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
        double(shape.producers) * double(shape.batch) / double(shape.rate)));
    next_ = Clock::now() + interval_ * producer / std::max(1, shape.producers);
  }

  asio::awaitable<void> WaitForTurn(asio::steady_timer& timer) {
    if (interval_ == Clock::duration::zero()) co_return;
    const auto now = Clock::now();
    if (next_ > now) {
      timer.expires_at(next_);
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    next_ = std::max(next_ + interval_, now);
  }

 private:
  Clock::duration interval_{};
  Clock::time_point next_{};
};

// Prints sent/s, received/s (= deleted or acknowledged, end to end), p50/p99 send-to-receive
// latency in ms and the mean number of messages per non-empty receive.
inline void PrintReport(const Shape& shape, Totals& totals) {
  auto& latencies = totals.latencies_us;
  std::sort(latencies.begin(), latencies.end());
  auto percentile = [&](double q) {
    if (latencies.empty()) return 0.0;
    return double(latencies[size_t(q * double(latencies.size() - 1))]) / 1000.0;
  };
  std::printf(
      "{\"fifo\":%s,\"protocol\":\"%s\",\"fanout\":%d,\"seconds\":%d,\"size\":%d,\"producers\":%d,"
      "\"consumers\":%d,"
      "\"batch\":%d,\"rate\":%d,\"sent_per_s\":%.0f,\"received_per_s\":%.0f,\"p50_ms\":%.2f,\"p99_"
      "ms\":%.2f,"
      "\"messages_per_receive\":%.2f,\"errors\":%lld}\n",
      shape.fifo ? "true" : "false", shape.protocol, shape.fanout, shape.seconds, shape.size,
      shape.producers, shape.consumers, shape.batch, shape.rate,
      double(totals.sent) / shape.seconds, double(totals.received) / shape.seconds,
      percentile(0.50), percentile(0.99),
      totals.receives ? double(totals.received) / double(totals.receives) : 0.0,
      static_cast<long long>(totals.errors));
}

// Resolves host:port, runs `start(io, endpoint, totals, setup_failed)` (a coroutine that starts
// the loops and stops `io` when they end) on one thread, stops the run 30 s after its planned
// end whatever the server does, and prints the report. Returns the process's exit code.
template <typename Start>
int RunLoad(const std::string& host, const std::string& port, const Shape& shape, Start start) {
  asio::io_context io(1);
  asio::ip::tcp::resolver resolver(io);
  boost::system::error_code ec;
  auto endpoints = resolver.resolve(host, port, ec);
  if (ec || endpoints.empty()) {
    std::fprintf(stderr, "cannot resolve %s:%s\n", host.c_str(), port.c_str());
    return 1;
  }
  Totals totals;
  bool setup_failed = false;
  asio::co_spawn(io, start(io, *endpoints.begin(), totals, setup_failed), asio::detached);
  asio::steady_timer watchdog(io, std::chrono::seconds(shape.seconds + 30));
  watchdog.async_wait([&io](const boost::system::error_code& e) {
    if (!e) io.stop();
  });
  io.run();
  if (setup_failed) return 1;
  PrintReport(shape, totals);
  return 0;
}

}  // namespace postbox::bench
