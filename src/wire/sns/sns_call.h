// SnsCall: one decoded SNS request on its way through an action handler, and the reply type.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "core/push/platform_service.h"
#include "core/sms/sms_service.h"
#include "core/topic/topic_service.h"
#include "wire/common/request_context.h"
#include "wire/common/xml_writer.h"

namespace postbox::wire::sns {

inline constexpr char kXmlNamespace[] = "http://sns.amazonaws.com/doc/2010-03-31/";

// Writes the members of <ActionResult>; an empty function means the response has no result
// element (DeleteTopic, Unsubscribe, ...).
using ResultWriter = std::function<void(XmlWriter&)>;
using Reply = std::function<void(Result<ResultWriter>)>;

struct SnsCall {
  std::string action;
  RequestContext context;
  nlohmann::json input;
  std::string base_url;  // "http://<Host>", where envelopes' URLs point back to
  core::TopicService* topics = nullptr;
  core::SmsService* sms = nullptr;        // null: SMS operations answer UnsupportedOperation
  core::PlatformService* push = nullptr;  // null: push operations answer UnsupportedOperation
  // The resource AuthorizeCall (sns_arn.h) checked; an ARN of another account is usable only
  // when it is this one (or, for a subscription, its topic).
  std::string authorized_resource;

  // The string member `name`, or "" when absent.
  std::string String(const char* name) const;
  Result<std::string> Required(const char* name) const;
  // A map member ("Attributes", "Tags" as list of Key/Value) as name -> value.
  core::AttributeMap Map(const char* name) const;
  core::AttributeMap TagList(const char* name) const;
  std::vector<std::string> StringList(const char* name) const;
};

using Handler = void (*)(SnsCall& call, Reply reply);

// Topics, subscriptions and tags (topic_actions.cc, subscription_actions.cc).
void CreateTopic(SnsCall& call, Reply reply);
void DeleteTopic(SnsCall& call, Reply reply);
void ListTopics(SnsCall& call, Reply reply);
void GetTopicAttributes(SnsCall& call, Reply reply);
void SetTopicAttributes(SnsCall& call, Reply reply);
void AddPermission(SnsCall& call, Reply reply);
void RemovePermission(SnsCall& call, Reply reply);
void PutDataProtectionPolicy(SnsCall& call, Reply reply);
void GetDataProtectionPolicy(SnsCall& call, Reply reply);
void TagResource(SnsCall& call, Reply reply);
void UntagResource(SnsCall& call, Reply reply);
void ListTagsForResource(SnsCall& call, Reply reply);
void Subscribe(SnsCall& call, Reply reply);
void ConfirmSubscription(SnsCall& call, Reply reply);
void Unsubscribe(SnsCall& call, Reply reply);
void ListSubscriptions(SnsCall& call, Reply reply);
void ListSubscriptionsByTopic(SnsCall& call, Reply reply);
void GetSubscriptionAttributes(SnsCall& call, Reply reply);
void SetSubscriptionAttributes(SnsCall& call, Reply reply);
// Publishing (publish_actions.cc).
void Publish(SnsCall& call, Reply reply);
void PublishBatch(SnsCall& call, Reply reply);
// SMS (sms_actions.cc).
void PublishToPhoneNumber(SnsCall& call, const core::PublishRequest& request, Reply reply);
void CheckIfPhoneNumberIsOptedOut(SnsCall& call, Reply reply);
void ListPhoneNumbersOptedOut(SnsCall& call, Reply reply);
void OptInPhoneNumber(SnsCall& call, Reply reply);
void SetSMSAttributes(SnsCall& call, Reply reply);
void GetSMSAttributes(SnsCall& call, Reply reply);
// Mobile push (push_actions.cc).
void PublishToEndpoint(SnsCall& call, const std::string& endpoint_arn,
                       const core::PublishRequest& request, Reply reply);
void CreatePlatformApplication(SnsCall& call, Reply reply);
void GetPlatformApplicationAttributes(SnsCall& call, Reply reply);
void SetPlatformApplicationAttributes(SnsCall& call, Reply reply);
void DeletePlatformApplication(SnsCall& call, Reply reply);
void ListPlatformApplications(SnsCall& call, Reply reply);
void CreatePlatformEndpoint(SnsCall& call, Reply reply);
void GetEndpointAttributes(SnsCall& call, Reply reply);
void SetEndpointAttributes(SnsCall& call, Reply reply);
void DeleteEndpoint(SnsCall& call, Reply reply);
void ListEndpointsByPlatformApplication(SnsCall& call, Reply reply);

// <Attributes><entry><key/><value/></entry>...</Attributes>
void WriteAttributeMap(XmlWriter& xml, const char* element, const core::AttributeMap& map);
// The string member `name` of `object`, or "" when absent or not a string (query input can
// make any member an object: "Action.x=1").
std::string StringMember(const nlohmann::json& object, const char* name);

// Replies with a result written by `write` (a lambda taking XmlWriter&).
template <typename Write>
void Answer(const Reply& reply, Write&& write) {
  reply(ResultWriter(std::forward<Write>(write)));
}

// Replies with an empty result once the status is known.
std::function<void(Status)> ReplyEmpty(Reply reply);

}  // namespace postbox::wire::sns
