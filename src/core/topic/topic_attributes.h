// The attribute rules of SNS topics and subscriptions: which names may be set, which values
// are valid (with AWS's InvalidParameter texts), and the documents Get*Attributes return.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "core/filter/filter_policy.h"
#include "core/queue/message.h"
#include "core/topic/topic.h"

namespace postbox::core {

Status ValidateTopicAttribute(const std::string& name, const std::string& value, bool fifo);
// At most 50 tags; keys 1-128 characters, values up to 256.
Status ValidateTags(const AttributeMap& tags);
AttributeMap TopicAttributes(const Topic& topic, int64_t confirmed, int64_t pending,
                             int64_t deleted);
// The access policy a topic has until one is set: its owner may do everything.
std::string DefaultPolicy(const Topic& topic);

// The protocol is known and the endpoint fits it (a queue ARN for sqs, a URL for http/https,
// an address for email); FIFO topics deliver only to SQS.
Status ValidateEndpoint(const std::string& protocol, const std::string& endpoint, bool topic_fifo);
Status ValidateSubscriptionAttribute(const std::string& name, const std::string& value,
                                     const std::string& protocol);
// postbox's subscription attribute for chat webhooks (slack | discord | teams | telegram) on
// http/https subscriptions: deliveries go as the chat service's payload (channels/chat). Such a
// subscription is confirmed at once: a webhook URL cannot visit a SubscribeURL, and whoever
// holds it may post to it.
inline constexpr char kChatFormatAttribute[] = "PostboxChatFormat";
// The subscription's chat format, "" for none.
std::string ChatFormatOf(const AttributeMap& attributes);
// Whether a new subscription of `protocol` is confirmed without ConfirmSubscription: queues
// of this server share its owner (as same-account queues on AWS), and AWS confirms sms,
// application, lambda and firehose at once. HTTP/S and email endpoints must confirm.
bool ConfirmedAtOnce(const std::string& protocol);

// A name (or ARN) of a FIFO topic or queue: it ends in ".fifo".
bool IsFifoName(const std::string& name);
// A FIFO queue subscribed to a FIFO topic keeps its order only with a FIFO dead-letter queue,
// so its RedrivePolicy must name one (AWS's rule; other subscriptions may use any queue).
Status CheckFifoDeadLetterQueue(bool topic_fifo, const std::string& endpoint,
                                const AttributeMap& attributes);
// `topic_policy`: the topic's DeliveryPolicy (may be empty), which HTTP/S subscriptions inherit.
AttributeMap SubscriptionAttributes(const Subscription& subscription,
                                    const std::string& topic_policy);
// The value as stored: RawMessageDelivery is case-insensitive ("True" is kept as "true").
std::string NormalizeSubscriptionAttribute(const std::string& name, const std::string& value);
// The subscription's compiled FilterPolicy (in its FilterPolicyScope), or nullptr if none.
Result<std::shared_ptr<const FilterPolicy>> CompileSubscriptionFilter(
    const AttributeMap& attributes);

// CreateTopic and Subscribe report attribute problems as "Invalid parameter: Attributes
// Reason: <problem>", the Set*Attributes actions as "Invalid parameter: <problem>".
Status ToAttributesReason(const Status& status);

// Message attributes of a Publish: a known data type and a value for each.
Status ValidatePublishAttributes(const MessageAttributes& attributes);

}  // namespace postbox::core
