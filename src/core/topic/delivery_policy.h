// DeliveryPolicy: how SNS retries a failed HTTP/S delivery ("Amazon SNS message delivery
// retries"): attempts without delay, then at minDelayTarget, then a backoff phase from
// minDelayTarget to maxDelayTarget (linear, arithmetic, geometric or exponential), then at
// maxDelayTarget, numRetries retries in all; and an optional throttle (maxReceivesPerSecond).
#pragma once

#include <optional>
#include <string>

#include "base/status.h"

namespace postbox::core {

// The Content-Type of HTTP/S deliveries when no requestPolicy names one.
inline constexpr char kDefaultDeliveryContentType[] = "text/plain; charset=UTF-8";

struct RetryPolicy {
  int min_delay_seconds = 20;
  int max_delay_seconds = 20;
  int num_retries = 3;
  int num_no_delay_retries = 0;
  int num_min_delay_retries = 0;
  int num_max_delay_retries = 0;
  std::string backoff_function = "linear";
  int max_receives_per_second = 0;  // 0: no throttle

  // Seconds to wait before retry number `retry` (1-based), or nullopt when retries are over.
  std::optional<int> DelayBeforeRetry(int retry) const;
};

// Validates a DeliveryPolicy document; `topic_level` documents nest the policy under "http"
// ({"http": {"defaultHealthyRetryPolicy": ..., "defaultThrottlePolicy": ...}}), subscription
// ones do not ({"healthyRetryPolicy": ..., "throttlePolicy": ...}). Errors are InvalidParameter
// with AWS's "DeliveryPolicy: ..." texts.
Status ValidateDeliveryPolicy(const std::string& json_text, bool topic_level);

// The policy that applies to an HTTP/S subscription: its own, else its topic's, else AWS's
// defaults. Both arguments may be empty.
RetryPolicy EffectiveRetryPolicy(const std::string& subscription_policy,
                                 const std::string& topic_policy);

// The fixed policy AWS applies to email, SMS and mobile push (only HTTP/S is configurable):
// 2 retries `min_delay_seconds` apart, 10 growing exponentially to `max_delay_seconds`, the rest
// at the maximum; AWS's numbers (10, 600, 50) make 50 retries over about 6 hours. Fewer
// retries shorten the phases in that order (tests use small numbers so they wait seconds).
RetryPolicy ManagedRetryPolicy(int min_delay_seconds = 10, int max_delay_seconds = 600,
                               int num_retries = 50);

// A headerContentType that can be sent as a header: type/subtype (and parameters), printable
// ASCII, at most 256 characters.
bool IsHeaderSafeContentType(const std::string& value);

// The Content-Type an HTTP/S delivery is sent with: requestPolicy.headerContentType of the
// subscription (unless the topic disables subscription overrides), else the topic's
// http.defaultRequestPolicy, else kDefaultDeliveryContentType.
std::string EffectiveContentType(const std::string& subscription_policy,
                                 const std::string& topic_policy);

// The documents Get*Attributes show, in AWS's shapes. A topic's DeliveryPolicy keeps the
// members given plus disableSubscriptionOverrides; a subscription's lists every member (null
// where not given). The effective policies fill what is missing from the topic and AWS's
// defaults; a topic with disableSubscriptionOverrides ignores its subscriptions' policies.
std::string TopicDeliveryPolicyView(const std::string& topic_policy);
std::string TopicEffectiveDeliveryPolicy(const std::string& topic_policy);
std::string SubscriptionDeliveryPolicyView(const std::string& subscription_policy);
std::string SubscriptionEffectiveDeliveryPolicy(const std::string& subscription_policy,
                                                const std::string& topic_policy);

}  // namespace postbox::core
