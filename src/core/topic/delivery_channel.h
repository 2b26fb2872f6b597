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
  kNotTried,          // shutting down: not an attempt, the delivery waits as stored
};

struct DeliveryOutcome {
  DeliveryVerdict verdict = DeliveryVerdict::kRetry;
  int status = 0;     // the provider's answer (HTTP status, SMTP reply), 0 when none came
  std::string error;  // why, when it failed; never a secret
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
