// PushChannel: the outbox's channel for mobile push (protocol "application": Publish to an
// endpoint ARN, and topic subscriptions of protocol application). The delivery's body is the
// FCM message (built at publish, channels/push/fcm_message.h); the endpoint's token and its
// application's credentials are looked up at each attempt, so that a new token or a
// re-enabled endpoint takes effect for waiting messages. A dead token disables the endpoint.
#pragma once

#include "base/metrics.h"
#include "channels/push/fcm_client.h"
#include "core/push/platform_service.h"
#include "core/topic/delivery_channel.h"

namespace postbox::core {

class PushChannel final : public DeliveryChannel {
 public:
  static constexpr int kMaxInFlight = 32;

  PushChannel(PlatformService& platforms, channels::FcmClient& fcm)
      : platforms_(platforms), fcm_(fcm) {}
  void Deliver(const Delivery& delivery, std::function<void(DeliveryOutcome)> done) override;
  int max_in_flight() const override { return kMaxInFlight; }

  Counter sent;
  Counter retried;
  Counter failed;              // permanent
  Counter disabled_endpoints;  // dead tokens reported by FCM
  Counter refused_disabled;    // not sent: the endpoint was disabled or deleted

 private:
  PlatformService& platforms_;
  channels::FcmClient& fcm_;
};

}  // namespace postbox::core
