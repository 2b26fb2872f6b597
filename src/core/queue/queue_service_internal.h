// Shared by the QueueService implementation files (queue_service.cc, queue_configuration.cc,
// queue_loading.cc). Not for other code.
#pragma once

#include <cstdint>

#include "base/clock.h"
#include "base/status.h"

namespace postbox::core {

// AWS refuses to re-create a queue name for 60 s after deleting it.
inline constexpr int64_t kRecreateDelayMs = 60'000;

// Seqs restart above (start-up time in ms << 10) so that a receipt handle issued before a
// restart can never name a different message after it (unless >1M messages/s were sent).
inline uint64_t SeqBase(const Clock& clock) { return uint64_t(clock.NowMillis()) << 10; }

inline Status NonExistentQueue() {
  return Status(ErrorCode::kQueueDoesNotExist, "The specified queue does not exist.");
}

}  // namespace postbox::core
