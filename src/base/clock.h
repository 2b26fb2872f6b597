// Clock: the one source of time in postbox.
//
// Everything that times something (visibility, delays, retention, purge windows) reads a
// Clock passed to its constructor, so tests move time with ManualClock::Advance() instead of
// sleeping. Only clock.cc reads the system clocks.
// Thread-safety: all methods are safe to call from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace postbox {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall time in milliseconds since the Unix epoch: what users see (SentTimestamp).
  virtual int64_t NowMillis() const = 0;
  // Monotonic time in milliseconds from an arbitrary origin, for intervals.
  virtual int64_t MonotonicMillis() const = 0;
};

// Monotonic microseconds, only for measuring how long work took (latency metrics): nothing
// may decide anything by it, so tests need no manual version.
int64_t StopwatchMicros();

// "2026-11-30T12:34:56.789Z": UTC with milliseconds, as AWS writes timestamps in JSON documents.
std::string Iso8601Millis(int64_t epoch_millis);

class SystemClock final : public Clock {
 public:
  int64_t NowMillis() const override;
  int64_t MonotonicMillis() const override;
  static SystemClock& Get();
};

// A clock that only moves when told to. Both readings advance together.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_millis = 1'700'000'000'000) : now_(start_millis) {}
  int64_t NowMillis() const override { return now_.load(); }
  int64_t MonotonicMillis() const override { return now_.load(); }
  void Advance(int64_t millis) { now_.fetch_add(millis); }
  void AdvanceSeconds(int64_t seconds) { Advance(seconds * 1000); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace postbox
