// HttpSender: how the core posts a document to a subscriber's HTTP/S endpoint. The core only
// needs "POST this, tell me the status"; the implementation (CurlSender) owns connections,
// TLS and timeouts. Core tests use a fake.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace postbox::channels {

struct OutboundRequest {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// `status`: the HTTP status, 0 when no answer came (connection refused, timeout, TLS
// failure), or kCancelled when the sender stopped before trying (shutdown): not an attempt.
// `error` says why in the last two cases.
inline constexpr int kCancelled = -1;
using OutboundDone = std::function<void(int status, const std::string& error)>;

class HttpSender {
 public:
  virtual ~HttpSender() = default;
  // Calls `done` exactly once, possibly on another thread.
  virtual void Post(OutboundRequest request, OutboundDone done) = 0;
};

}  // namespace postbox::channels
