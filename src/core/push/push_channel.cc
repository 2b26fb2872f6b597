#include "core/push/push_channel.h"

namespace postbox::core {

void PushChannel::Deliver(const Delivery& delivery, std::function<void(DeliveryOutcome)> done) {
  auto target = platforms_.TargetOf(delivery.endpoint);
  if (!target.ok()) {
    // A deleted endpoint or application: nothing can deliver it. A credential that does not
    // parse can be mended by SetPlatformApplicationAttributes: retried.
    const bool gone = target.status().code() == ErrorCode::kNotFound;
    if (gone) refused_disabled.Add();
    return done({gone ? DeliveryVerdict::kPermanentFailure : DeliveryVerdict::kRetry, 0,
                 target.status().message()});
  }
  if (!target->enabled) {
    refused_disabled.Add();
    return done({DeliveryVerdict::kPermanentFailure, 0, "the endpoint is disabled"});
  }
  fcm_.Send(
      target->account, target->token, delivery.body,
      [this, arn = delivery.endpoint, token = target->token,
       done = std::move(done)](channels::PushResult r) {
        DeliveryOutcome outcome{DeliveryVerdict::kRetry, r.status, r.error, r.retry_after_seconds};
        switch (r.verdict) {
          case channels::PushVerdict::kSent:
            sent.Add();
            outcome = {DeliveryVerdict::kDelivered, r.status, "", -1};
            break;
          case channels::PushVerdict::kRetry:
            retried.Add();
            break;
          case channels::PushVerdict::kPermanent:
            failed.Add();
            outcome.verdict = DeliveryVerdict::kPermanentFailure;
            break;
          case channels::PushVerdict::kDeadToken:
            disabled_endpoints.Add();
            platforms_.DisableEndpoint(arn, token);
            outcome.verdict = DeliveryVerdict::kPermanentFailure;
            break;
          case channels::PushVerdict::kNotTried:
            outcome.verdict = DeliveryVerdict::kNotTried;
            break;
        }
        done(std::move(outcome));
      });
}

}  // namespace postbox::core
