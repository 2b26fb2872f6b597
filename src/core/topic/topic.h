// Topic and Subscription: an SNS topic and one of its subscriptions as the core keeps them.
// Plain values; TopicService owns them and guards them with its mutex.
#pragma once

#include <optional>
#include <string>

#include "core/queue/queue.h"
#include "core/queue/queue_config.h"

namespace postbox::core {

struct Topic {
  std::string arn;  // arn:aws:sns:<region>:<account>:<name>
  std::string region;
  std::string account;
  std::string name;
  bool fifo = false;
  AttributeMap attributes;  // the settable ones, as last set (DisplayName, Policy, ...)
  AttributeMap tags;
};

struct Subscription {
  std::string arn;  // <topic arn>:<uuid>
  std::string topic_arn;
  std::string protocol;  // sqs, http, https, email, email-json, sms, application, lambda
  std::string endpoint;
  std::string owner;  // account id
  // The account that subscribed (empty in records from before it was kept: the topic's). A
  // queue of the topic's account lets the topic in without a grant only when this is that
  // same account (core/topic/topic_publish.cc).
  std::string subscriber_account;
  bool confirmed = false;
  std::string token;        // ConfirmSubscription token while pending
  AttributeMap attributes;  // RawMessageDelivery, FilterPolicy, RedrivePolicy, ...
  // Confirmed by a signed ConfirmSubscription with AuthenticateOnUnsubscribe=true: its
  // UnsubscribeURL no longer works unsigned.
  bool authenticate_on_unsubscribe = false;
};

// Topic and subscription records as stored (JSON documents).
std::string EncodeTopic(const Topic& topic);
bool DecodeTopic(std::string_view blob, Topic* topic);
std::string EncodeSubscription(const Subscription& subscription);
bool DecodeSubscription(std::string_view blob, Subscription* subscription);

}  // namespace postbox::core
