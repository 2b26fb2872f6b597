// Subscription actions of the SNS API.
#include <nlohmann/json.hpp>
#include <string>

#include "core/policy/access_check.h"
#include "wire/common/access.h"
#include "wire/sns/sns_arn.h"
#include "wire/sns/sns_call.h"

namespace postbox::wire::sns {
namespace {

constexpr size_t kPageSize = 100;

void WriteSubscriptions(XmlWriter& xml, const std::vector<core::Subscription>& subscriptions,
                        const PageRange& page) {
  xml.Open("Subscriptions");
  for (size_t i = page.begin; i < page.end; ++i) {
    const core::Subscription& s = subscriptions[i];
    xml.Open("member");
    // Lists show unconfirmed subscriptions as "PendingConfirmation" (Subscribe says
    // "pending confirmation"): both spellings are AWS's.
    xml.Element("SubscriptionArn", s.confirmed ? s.arn : "PendingConfirmation");
    xml.Element("Owner", s.owner);
    xml.Element("Protocol", s.protocol);
    xml.Element("Endpoint", s.endpoint);
    xml.Element("TopicArn", s.topic_arn);
    xml.Close();
  }
  xml.Close();
  if (!page.next_token.empty()) xml.Element("NextToken", page.next_token);
}

void ReplyList(const SnsCall& call, std::vector<core::Subscription> subscriptions, Reply reply) {
  auto page = Page(subscriptions.size(), kPageSize, call.String("NextToken"));
  if (!page.ok()) return reply(page.status());
  Answer(reply, [subscriptions = std::move(subscriptions), page = *page](XmlWriter& xml) {
    WriteSubscriptions(xml, subscriptions, page);
  });
}

// A subscription sends to its queue and its dead-letter queue on the subscriber's behalf: a
// signed caller must itself be allowed to send to such a queue of its own account (else a
// key allowed only to subscribe could write into any queue). A queue of another account is
// guarded by that queue's Policy at each delivery instead.
Status CheckMaySendTo(const SnsCall& call, const std::string& queue_arn) {
  if (!call.context.authenticated || queue_arn.empty() ||
      core::policy::ArnAccount(queue_arn) != call.context.account) {
    return Status::Ok();
  }
  const auto policy = call.topics->QueueAccessPolicy(queue_arn);
  return CheckAccess(call.context, "sqs:SendMessage", queue_arn, policy.get());
}

// The dead-letter queue a RedrivePolicy names ("" when it names none or does not parse: the
// core refuses a malformed one).
std::string DeadLetterQueueOf(const std::string& redrive_policy) {
  const auto parsed = nlohmann::json::parse(redrive_policy, nullptr, false);
  if (!parsed.is_object()) return "";
  auto it = parsed.find("deadLetterTargetArn");
  return it != parsed.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

void Subscribe(SnsCall& call, Reply reply) {
  auto topic = RequiredArn(call, "TopicArn");
  if (!topic.ok()) return reply(topic.status());
  auto protocol = call.Required("Protocol");
  if (!protocol.ok()) return reply(protocol.status());
  const bool return_arn = call.String("ReturnSubscriptionArn") == "true";
  // A device endpoint or dead-letter queue of another account is refused. A queue of another
  // account may be subscribed: its Policy decides at each delivery whether the topic may send
  // (aws:SourceArn), as on AWS.
  auto attributes = call.Map("Attributes");
  auto redrive = attributes.find("RedrivePolicy");
  if ((*protocol == "application" && NamesAnotherAccount(call.context, call.String("Endpoint"))) ||
      (redrive != attributes.end() && NamesAnotherAccount(call.context, redrive->second))) {
    return reply(Status(ErrorCode::kAccessDenied,
                        "User is not authorized to use a resource of another account"));
  }
  for (const std::string& queue :
       {*protocol == "sqs" ? call.String("Endpoint") : std::string(),
        redrive != attributes.end() ? DeadLetterQueueOf(redrive->second) : std::string()}) {
    if (Status s = CheckMaySendTo(call, queue); !s.ok()) return reply(s);
  }
  call.topics->Subscribe(
      *topic, *protocol, call.String("Endpoint"), std::move(attributes), call.base_url,
      call.context.account, [reply, return_arn](Result<core::SubscribeResult> result) {
        if (!result.ok()) return reply(result.status());
        std::string arn =
            result->pending && !return_arn ? "pending confirmation" : result->subscription_arn;
        Answer(reply, [arn](XmlWriter& xml) { xml.Element("SubscriptionArn", arn); });
      });
}

void ConfirmSubscription(SnsCall& call, Reply reply) {
  auto topic = call.Required("TopicArn");
  if (!topic.ok()) return reply(topic.status());
  if (std::count(topic->begin(), topic->end(), ':') < 5) {
    return reply(Status(ErrorCode::kInvalidParameter, "Invalid parameter: Topic"));
  }
  auto token = call.Required("Token");
  if (!token.ok()) return reply(token.status());
  // Honoured only from a signed request, as on AWS.
  const bool authenticate_on_unsubscribe =
      call.context.authenticated && call.String("AuthenticateOnUnsubscribe") == "true";
  call.topics->ConfirmSubscription(
      *topic, *token, authenticate_on_unsubscribe, [reply](Result<std::string> arn) {
        if (!arn.ok()) return reply(arn.status());
        Answer(reply, [arn = *arn](XmlWriter& xml) { xml.Element("SubscriptionArn", arn); });
      });
}

void Unsubscribe(SnsCall& call, Reply reply) {
  auto arn = RequiredArn(call, "SubscriptionArn");
  if (!arn.ok()) return reply(arn.status());
  if (std::count(arn->begin(), arn->end(), ':') < 6) {
    return reply(Status(ErrorCode::kInvalidParameter, "Invalid parameter: SubscriptionId"));
  }
  // An unsigned visit of the UnsubscribeURL: the core says which subscriptions it may end.
  call.topics->Unsubscribe(*arn, call.base_url, call.context.unsigned_link_visit,
                           ReplyEmpty(reply));
}

void ListSubscriptions(SnsCall& call, Reply reply) {
  ReplyList(call, call.topics->ListSubscriptions(call.context.region, call.context.account),
            std::move(reply));
}

void ListSubscriptionsByTopic(SnsCall& call, Reply reply) {
  auto topic = RequiredArn(call, "TopicArn");
  if (!topic.ok()) return reply(topic.status());
  auto subscriptions = call.topics->ListSubscriptionsByTopic(*topic);
  if (!subscriptions.ok()) return reply(subscriptions.status());
  ReplyList(call, std::move(*subscriptions), std::move(reply));
}

void GetSubscriptionAttributes(SnsCall& call, Reply reply) {
  auto arn = RequiredArn(call, "SubscriptionArn");
  if (!arn.ok()) return reply(arn.status());
  auto attributes = call.topics->GetSubscriptionAttributes(*arn);
  if (!attributes.ok()) return reply(attributes.status());
  Answer(reply, [attributes = *attributes](XmlWriter& xml) {
    WriteAttributeMap(xml, "Attributes", attributes);
  });
}

void SetSubscriptionAttributes(SnsCall& call, Reply reply) {
  auto arn = RequiredArn(call, "SubscriptionArn");
  if (!arn.ok()) return reply(arn.status());
  auto name = call.Required("AttributeName");
  if (!name.ok()) return reply(name.status());
  if (*name == "RedrivePolicy" &&
      NamesAnotherAccount(call.context, call.String("AttributeValue"))) {
    return reply(Status(ErrorCode::kAccessDenied,
                        "User is not authorized to use a resource of another account"));
  }
  if (*name == "RedrivePolicy") {
    if (Status s = CheckMaySendTo(call, DeadLetterQueueOf(call.String("AttributeValue")));
        !s.ok()) {
      return reply(s);
    }
  }
  call.topics->SetSubscriptionAttribute(*arn, *name, call.String("AttributeValue"),
                                        ReplyEmpty(reply));
}

}  // namespace postbox::wire::sns
