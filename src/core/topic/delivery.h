// Delivery: one document on its way to one subscriber through the outbox (delivery_outbox.h);
// a DeliveryChannel (delivery_channel.h) takes it the last step.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/topic/delivery_policy.h"

namespace postbox::core {

struct Delivery {
  std::string id;
  std::string message_type;  // Notification, SubscriptionConfirmation, UnsubscribeConfirmation
  // The subscription's protocol, which picks the channel: http and https (also for records
  // written before other channels existed), email, email-json, sms, application (push);
  // ses for SES API mail.
  std::string protocol = "http";
  std::string message_id;
  std::string topic_arn;
  std::string subscription_arn;
  std::string endpoint;
  std::string body;
  std::string subject;    // email: the Subject line
  std::string from_name;  // email: the sender's display name (the topic's DisplayName)
  // ses (a whole message sent through the SES API): the envelope recipients; `endpoint` is the
  // envelope sender and `body` the finished RFC 5322 message.
  std::vector<std::string> recipients;
  // sms: `endpoint` is the E.164 number and `body` the text; "region/account" whose SMS
  // attributes and opt-out list apply; the publisher's AWS.SNS.SMS.SenderID / SMSType, if any.
  std::string account_scope;
  // http/https with PostboxChatFormat: the chat service's payload is built from `subject` and
  // `body` (the message) at each attempt.
  std::string chat_format;
  std::string sender_id;
  std::string sms_type;
  bool raw = false;
  RetryPolicy policy;
  std::string content_type = kDefaultDeliveryContentType;  // from the requestPolicy
  std::string dead_letter_queue_arn;  // from the subscription's RedrivePolicy; may be empty
  int attempts = 0;                   // made so far
  int64_t next_attempt_ms = 0;
  // Given up, but its dead-letter queue could not store it yet: when due, it goes to the
  // dead-letter queue again, not to the endpoint. Memory only (after a restart, the record
  // gets its retries again).
  bool dead_letter_pending = false;
};

// A Delivery's account_scope: "region/account".
inline std::string AccountScope(const std::string& region, const std::string& account) {
  return region + "/" + account;
}

}  // namespace postbox::core
