// DeliveryChannel: how the outbox hands a delivery to one kind of subscriber. The outbox owns
// everything around an attempt (storage, retries with the subscription's policy, throttling,
// the dead-letter queue); a channel makes one attempt and says what it meant.
#pragma once

#include <functional>
#include <string>

#include "core/topic/delivery.h"

namespace postbox::core {

enum class DeliveryVerdict {
  kDelivered,         // the subscriber (or its provider) took it
  kRetry,             // a transient failure: try again per the retry policy
  kPermanentFailure,  // trying again cannot help (no such mailbox): give up at once
  // Not an attempt (shutting down, or the provider's rate limit is used up for now): the
  // delivery waits as stored and is offered again at the next Advance.
  kNotTried,
};

struct DeliveryOutcome {
  DeliveryVerdict verdict = DeliveryVerdict::kRetry;
  int status = 0;     // the provider's answer (HTTP status, SMTP reply), 0 when none came
  std::string error;  // why, when it failed; never a secret
  // The provider asked for this pause before the next attempt (Retry-After); -1: none.
  int retry_after_seconds = -1;
};

class DeliveryChannel {
 public:
  virtual ~DeliveryChannel() = default;
  // Makes one attempt; calls `done` exactly once, possibly on another thread.
  virtual void Deliver(const Delivery& delivery, std::function<void(DeliveryOutcome)> done) = 0;
  // Attempts this channel may have in flight at once, over all endpoints (0: no limit beyond
  // the outbox's per-endpoint one). A mail relay wants a few sessions, not one per address.
  virtual int max_in_flight() const { return 0; }
};

}  // namespace postbox::core
