// Waits for the answers of QueueService calls that answer through a callback, for tests on
// the MemoryEngine (which answers before Commit returns).
#pragma once

#include <string>

#include "core/queue/queue_service.h"

namespace postbox::core {

inline Status DeleteNow(QueueService& service, const QueuePtr& queue, const std::string& handle) {
  Status out(ErrorCode::kInternal, "not answered");
  service.DeleteMessage(queue, handle, [&out](Status s) { out = std::move(s); });
  return out;
}

inline Status ChangeVisibilityNow(QueueService& service, const QueuePtr& queue,
                                  const std::string& handle, int timeout) {
  Status out(ErrorCode::kInternal, "not answered");
  service.ChangeMessageVisibility(queue, handle, timeout, [&out](Status s) { out = std::move(s); });
  return out;
}

}  // namespace postbox::core
