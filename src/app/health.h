// The answers to GET /healthz and /readyz, for load balancers and supervisors.
//
// /healthz (liveness) fails only when a restart is the cure: storage failed a sync and takes
// nothing more (kFailed). /readyz (readiness) also fails while starting or stopping, and while
// storage cannot take new messages (a full disk, a stalled write): route traffic elsewhere,
// but do not restart; postbox resumes by itself once it can write.
#pragma once

#include <string_view>

#include "storage/engine.h"
#include "wire/common/http_message.h"

namespace postbox::app {

enum class Probe { kLiveness, kReadiness };

// `serving`: started and not stopping.
wire::HttpResponse HealthResponse(Probe probe, bool serving, const storage::StorageHealth& health);

// The answer to any request while the state is still being loaded at start-up: /healthz is
// 200 (alive, busy loading), /readyz and everything else 503 with Retry-After.
wire::HttpResponse LoadingResponse(std::string_view method, std::string_view path);

}  // namespace postbox::app
