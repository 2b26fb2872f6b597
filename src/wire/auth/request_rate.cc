#include "wire/auth/request_rate.h"

#include <algorithm>

namespace postbox::wire::auth {

RequestRate::RequestRate(double per_second)
    : per_second_(per_second), tokens_(std::max(per_second, 1.0)) {}

bool RequestRate::TryTake(int64_t now_ms) {
  std::lock_guard lock(mu_);
  const double capacity = std::max(per_second_, 1.0);
  if (last_ms_ >= 0 && now_ms > last_ms_) {
    tokens_ = std::min(capacity, tokens_ + double(now_ms - last_ms_) * per_second_ / 1000.0);
  }
  last_ms_ = std::max(last_ms_, now_ms);  // a clock that steps back refills nothing
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

}  // namespace postbox::wire::auth
