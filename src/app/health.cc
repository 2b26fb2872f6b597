#include "app/health.h"

namespace postbox::app {

wire::HttpResponse HealthResponse(Probe probe, bool serving, const storage::StorageHealth& health) {
  wire::HttpResponse r;
  r.content_type = "text/plain";
  r.status = 503;
  const std::string state = storage::StorageStateName(health.state);
  if (health.state == storage::StorageState::kFailed) {
    r.body = "storage failed: " + health.cause + "; restart postbox\n";
  } else if (probe == Probe::kLiveness) {
    r.status = 200;
    r.body = "ok\n";
  } else if (!serving) {
    r.body = "not serving (starting or stopping)\n";
  } else if (health.state != storage::StorageState::kHealthy) {
    r.body = "storage " + state + ": " + health.cause + "\n";
  } else {
    r.status = 200;
    r.body = "ok\n";
  }
  return r;
}

wire::HttpResponse LoadingResponse(std::string_view method, std::string_view path) {
  wire::HttpResponse r;
  r.content_type = "text/plain";
  r.body = "starting: loading the stored state\n";
  if (method == "GET" && path == "/healthz") return r;
  r.status = 503;
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

}  // namespace postbox::app
