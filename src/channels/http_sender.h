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
  // True for endpoints the operator configured (an SMS or push provider's API): those are not
  // checked by the outbound guard (channels/outbound_guard.h), which is for URLs subscribers
  // chose.
  bool operator_configured = false;
};

// `status`: the HTTP status, 0 when no answer came (connection refused, timeout, TLS
// failure), kCancelled when the sender stopped before trying (shutdown): not an attempt, or
// kRefusedByGuard when every address of the URL's host is one the outbound guard refuses (no
// later attempt can succeed until the operator allows it). `error` says why in those cases.
inline constexpr int kCancelled = -1;
inline constexpr int kRefusedByGuard = -2;
using OutboundDone = std::function<void(int status, const std::string& error)>;

// A provider's whole answer, for callers that must read it (an SMS or push provider names the
// failure in its body and may ask for a pause).
struct OutboundResponse {
  int status = 0;  // as OutboundDone's
  std::string error;
  std::string body;              // at most kMaxResponseBytes of it
  int retry_after_seconds = -1;  // the Retry-After header in seconds, -1 when absent
};
inline constexpr size_t kMaxResponseBytes = 64 * 1024;
using ResponseDone = std::function<void(OutboundResponse)>;

class HttpSender {
 public:
  virtual ~HttpSender() = default;
  // Calls `done` exactly once, possibly on another thread.
  virtual void Post(OutboundRequest request, OutboundDone done) = 0;
  // POSTs and hands back the answer's body and Retry-After too. The default (for fakes that
  // only know Post) gives the status alone.
  virtual void Exchange(OutboundRequest request, ResponseDone done) {
    Post(std::move(request), [done = std::move(done)](int status, const std::string& error) {
      done({status, error, "", -1});
    });
  }
};

}  // namespace postbox::channels
