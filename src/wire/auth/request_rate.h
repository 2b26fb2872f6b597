// RequestRate: a token bucket that paces one access key's requests (auth.requests_per_second
// or the key's own requests_per_second). Tokens come at `per_second` a second and at most
// one second's worth is saved up, so a key may burst to that many requests at once and
// sustains `per_second`. Thread-safe: requests of one key arrive on every I/O thread.
#pragma once

#include <cstdint>
#include <mutex>

namespace postbox::wire::auth {

class RequestRate {
 public:
  explicit RequestRate(double per_second);

  // Takes one token if there is one (the request may go ahead).
  bool TryTake(int64_t now_ms);

 private:
  std::mutex mu_;
  const double per_second_;
  double tokens_;
  int64_t last_ms_ = -1;
};

}  // namespace postbox::wire::auth
