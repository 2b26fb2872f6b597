#include "core/topic/topic_attributes.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "channels/chat/chat_message.h"
#include "channels/mime_message.h"
#include "channels/sms/phone_number.h"
#include "core/policy/access_policy.h"
#include "core/queue/message_rules.h"
#include "core/topic/delivery_policy.h"

namespace postbox::core {
namespace {

using nlohmann::json;

Status InvalidParameter(const std::string& what) {
  return Status(ErrorCode::kInvalidParameter, "Invalid parameter: " + what);
}

bool IsBoolean(const std::string& value) { return value == "true" || value == "false"; }

std::string Lower(std::string value) {
  for (char& c : value) c = char(std::tolower(uint8_t(c)));
  return value;
}

Status ValidateJsonObject(const std::string& name, const std::string& value) {
  if (!json::parse(value, nullptr, false).is_object()) {
    return InvalidParameter(name + ": failed to parse JSON.");
  }
  return Status::Ok();
}

}  // namespace

std::string DefaultPolicy(const Topic& topic) {
  // In AWS's key order (ordered_json keeps insertion order).
  nlohmann::ordered_json statement;
  statement["Sid"] = "__default_statement_ID";
  statement["Effect"] = "Allow";
  statement["Principal"] = {{"AWS", "*"}};
  statement["Action"] = {"SNS:GetTopicAttributes",
                         "SNS:SetTopicAttributes",
                         "SNS:AddPermission",
                         "SNS:RemovePermission",
                         "SNS:DeleteTopic",
                         "SNS:Subscribe",
                         "SNS:ListSubscriptionsByTopic",
                         "SNS:Publish"};
  statement["Resource"] = topic.arn;
  statement["Condition"] = {{"StringEquals", {{"AWS:SourceOwner", topic.account}}}};
  nlohmann::ordered_json policy;
  policy["Version"] = "2008-10-17";
  policy["Id"] = "__default_policy_ID";
  policy["Statement"] = nlohmann::ordered_json::array({statement});
  return policy.dump();
}

Status ValidateTopicAttribute(const std::string& name, const std::string& value, bool fifo) {
  static const std::set<std::string> kFreeForm = {"KmsMasterKeyId",
                                                  "ArchivePolicy",
                                                  "ApplicationSuccessFeedbackRoleArn",
                                                  "ApplicationSuccessFeedbackSampleRate",
                                                  "ApplicationFailureFeedbackRoleArn",
                                                  "HTTPSuccessFeedbackRoleArn",
                                                  "HTTPSuccessFeedbackSampleRate",
                                                  "HTTPFailureFeedbackRoleArn",
                                                  "LambdaSuccessFeedbackRoleArn",
                                                  "LambdaSuccessFeedbackSampleRate",
                                                  "LambdaFailureFeedbackRoleArn",
                                                  "SQSSuccessFeedbackRoleArn",
                                                  "SQSSuccessFeedbackSampleRate",
                                                  "SQSFailureFeedbackRoleArn",
                                                  "FirehoseSuccessFeedbackRoleArn",
                                                  "FirehoseSuccessFeedbackSampleRate",
                                                  "FirehoseFailureFeedbackRoleArn"};
  if (name == "DisplayName") {
    if (value.size() > 100) return InvalidParameter("DisplayName");
    return Status::Ok();
  }
  if (name == "Policy" || name == "DataProtectionPolicy") {
    // AWS's limit on a topic policy is 30 KiB; it also bounds the nesting that writing the
    // document back out (AddPermission) must recurse through.
    if (value.size() > 30 * 1024) return InvalidParameter(name);
    if (name == "Policy") {
      // Evaluated for every request from another account: refused unless postbox can read
      // every statement as its author meant (core/policy/access_policy.h).
      auto parsed = policy::ParsePolicy(value, policy::PolicyKind::kResource);
      if (!parsed.ok()) return InvalidParameter("Policy Reason: " + parsed.status().message());
    }
    return ValidateJsonObject(name, value);
  }
  if (name == "DeliveryPolicy") return ValidateDeliveryPolicy(value, /*topic_level=*/true);
  if (name == "SignatureVersion") {
    if (value != "1" && value != "2") return InvalidParameter("SignatureVersion");
    return Status::Ok();
  }
  if (name == "TracingConfig") {
    if (value != "PassThrough" && value != "Active") return InvalidParameter("TracingConfig");
    return Status::Ok();
  }
  if (name == "ContentBasedDeduplication") {
    if (!fifo) {
      return InvalidParameter(
          "ContentBasedDeduplication Reason: Content based deduplication can only be set for "
          "FIFO topics");
    }
    if (!IsBoolean(value)) return InvalidParameter("ContentBasedDeduplication");
    return Status::Ok();
  }
  if (name == "FifoThroughputScope") {
    if (!fifo) return InvalidParameter("FifoThroughputScope");
    if (value != "Topic" && value != "MessageGroup") return InvalidParameter("FifoThroughputScope");
    return Status::Ok();
  }
  if (kFreeForm.count(name)) return Status::Ok();
  return InvalidParameter("AttributeName");
}

Status ValidateTags(const AttributeMap& tags) {
  if (tags.size() > 50) {
    return Status(ErrorCode::kOverLimit,  // SNS's TagLimitExceeded
                  "Could not complete request: tag quota of per resource exceeded");
  }
  for (const auto& [key, value] : tags) {
    if (key.empty() || key.size() > 128 || value.size() > 256) {
      return InvalidParameter(
          "Tags Reason: Tag keys must be 1-128 characters and values at "
          "most 256 characters");
    }
  }
  return Status::Ok();
}

AttributeMap TopicAttributes(const Topic& topic, int64_t confirmed, int64_t pending,
                             int64_t deleted) {
  AttributeMap out = topic.attributes;
  // Kept with the attributes, but AWS returns it only through GetDataProtectionPolicy.
  out.erase("DataProtectionPolicy");
  out["TopicArn"] = topic.arn;
  out["Owner"] = topic.account;
  if (!out.count("Policy")) out["Policy"] = DefaultPolicy(topic);
  if (!out.count("DisplayName")) out["DisplayName"] = "";
  out["SubscriptionsConfirmed"] = std::to_string(confirmed);
  out["SubscriptionsPending"] = std::to_string(pending);
  out["SubscriptionsDeleted"] = std::to_string(deleted);
  auto delivery = topic.attributes.find("DeliveryPolicy");
  const std::string policy = delivery != topic.attributes.end() ? delivery->second : "";
  if (!policy.empty()) out["DeliveryPolicy"] = TopicDeliveryPolicyView(policy);
  out["EffectiveDeliveryPolicy"] = TopicEffectiveDeliveryPolicy(policy);
  if (topic.fifo) {
    out["FifoTopic"] = "true";
    if (!out.count("ContentBasedDeduplication")) out["ContentBasedDeduplication"] = "false";
  }
  return out;
}

Status ValidateEndpoint(const std::string& protocol, const std::string& endpoint, bool topic_fifo) {
  static const std::set<std::string> kProtocols = {
      "sqs", "http", "https", "email", "email-json", "sms", "application", "lambda", "firehose"};
  if (protocol.empty()) {
    return InvalidParameter("Protocol");  // botocore catches this first; raw clients reach here
  }
  if (!kProtocols.count(protocol)) {
    return InvalidParameter("Amazon SNS does not support this protocol string: " + protocol);
  }
  if (topic_fifo && protocol != "sqs" && protocol != "firehose") {
    return InvalidParameter("Invalid protocol type: " + protocol);
  }
  if (protocol == "sqs") {
    if (endpoint.rfind("arn:aws:sqs:", 0) != 0 ||
        std::count(endpoint.begin(), endpoint.end(), ':') != 5) {
      return InvalidParameter("SQS endpoint ARN");
    }
  } else if (protocol == "http" || protocol == "https") {
    if (endpoint.rfind(protocol + "://", 0) != 0 || endpoint.size() <= protocol.size() + 3) {
      return InvalidParameter("Endpoint must match the specified protocol");
    }
  } else if (protocol == "email" || protocol == "email-json") {
    if (!channels::IsValidEmailAddress(endpoint)) return InvalidParameter("Email address");
  } else if (protocol == "application") {
    if (endpoint.rfind("arn:aws:sns:", 0) != 0 ||
        endpoint.find(":endpoint/") == std::string::npos) {
      return InvalidParameter("Endpoint Reason: An application endpoint ARN is required");
    }
  } else if (protocol == "sms") {
    if (!channels::IsE164(endpoint)) {
      return Status(ErrorCode::kInvalidParameter, "Invalid SMS endpoint: " + endpoint);
    }
  } else if (endpoint.empty()) {
    return InvalidParameter("Endpoint");
  }
  return Status::Ok();
}

Status ValidateSubscriptionAttribute(const std::string& name, const std::string& value,
                                     const std::string& protocol) {
  if (name == "RawMessageDelivery") {
    if (protocol != "sqs" && protocol != "http" && protocol != "https" && protocol != "firehose") {
      return InvalidParameter("Delivery protocol [" + protocol +
                              "] does not support raw message delivery.");
    }
    if (!IsBoolean(Lower(value))) {
      return InvalidParameter("RawMessageDelivery: Invalid value [" + value +
                              "]. Must be true or false.");
    }
    return Status::Ok();
  }
  if (name == "FilterPolicyScope") {
    if (value != "MessageAttributes" && value != "MessageBody") {
      return InvalidParameter("FilterPolicyScope: Invalid value [" + value +
                              "]. Please use either MessageBody or MessageAttributes");
    }
    return Status::Ok();
  }
  if (name == "FilterPolicy") return Status::Ok();  // compiled with its scope by the caller
  if (name == "RedrivePolicy") {
    if (value.empty()) return Status::Ok();
    json policy = json::parse(value, nullptr, false);
    auto target = policy.is_object() ? policy.find("deadLetterTargetArn") : policy.end();
    if (!policy.is_object() || target == policy.end() || !target->is_string() ||
        target->get<std::string>().rfind("arn:aws:sqs:", 0) != 0) {
      return InvalidParameter(policy.is_object()
                                  ? "RedrivePolicy: deadLetterTargetArn is an invalid arn"
                                  : "RedrivePolicy: failed to parse JSON.");
    }
    return Status::Ok();
  }
  if (name == "DeliveryPolicy") {
    if (protocol != "http" && protocol != "https") return InvalidParameter("DeliveryPolicy");
    return ValidateDeliveryPolicy(value, /*topic_level=*/false);
  }
  if (name == "SubscriptionRoleArn" || name == "ReplayPolicy") return Status::Ok();
  if (name == kChatFormatAttribute) {  // postbox's own: AWS has no chat formats
    if (protocol != "http" && protocol != "https") {
      return InvalidParameter(std::string(kChatFormatAttribute) + ": only for http and https");
    }
    if (!value.empty() && !channels::IsChatFormat(value)) {
      return InvalidParameter(std::string(kChatFormatAttribute) + ": Invalid value [" + value +
                              "]. Must be slack, discord, teams or telegram.");
    }
    return Status::Ok();
  }
  return InvalidParameter("AttributeName");
}

std::string ChatFormatOf(const AttributeMap& attributes) {
  auto it = attributes.find(kChatFormatAttribute);
  return it == attributes.end() ? std::string() : it->second;
}

bool ConfirmedAtOnce(const std::string& protocol) {
  return protocol == "sqs" || protocol == "sms" || protocol == "application" ||
         protocol == "lambda" || protocol == "firehose";
}

bool IsFifoName(const std::string& name) {
  return name.size() > 5 && name.compare(name.size() - 5, 5, ".fifo") == 0;
}

Status CheckFifoDeadLetterQueue(bool topic_fifo, const std::string& endpoint,
                                const AttributeMap& attributes) {
  auto redrive = attributes.find("RedrivePolicy");
  if (!topic_fifo || !IsFifoName(endpoint) || redrive == attributes.end()) return Status::Ok();
  json policy = json::parse(redrive->second, nullptr, false);
  auto target = policy.is_object() ? policy.find("deadLetterTargetArn") : policy.end();
  if (target == policy.end() || !target->is_string() || IsFifoName(target->get<std::string>())) {
    return Status::Ok();  // a malformed policy was refused by ValidateSubscriptionAttribute
  }
  return InvalidParameter(
      "RedrivePolicy: must use a FIFO queue as DLQ for a FIFO Subscription to a FIFO Topic.");
}

std::string NormalizeSubscriptionAttribute(const std::string& name, const std::string& value) {
  return name == "RawMessageDelivery" ? Lower(value) : value;
}

AttributeMap SubscriptionAttributes(const Subscription& s, const std::string& topic_policy) {
  AttributeMap out = s.attributes;
  out["SubscriptionArn"] = s.arn;
  out["TopicArn"] = s.topic_arn;
  out["Owner"] = s.owner;
  out["Protocol"] = s.protocol;
  out["Endpoint"] = s.endpoint;
  out["ConfirmationWasAuthenticated"] = s.confirmed ? "true" : "false";
  out["PendingConfirmation"] = s.confirmed ? "false" : "true";
  // The subscriber's identity. postbox has no IAM users: the owning account's root.
  out["SubscriptionPrincipal"] = "arn:aws:iam::" + s.owner + ":root";
  if (!out.count("RawMessageDelivery")) out["RawMessageDelivery"] = "false";
  if (out.count("FilterPolicy") && !out.count("FilterPolicyScope")) {
    out["FilterPolicyScope"] = "MessageAttributes";
  }
  if (s.protocol == "http" || s.protocol == "https") {
    auto delivery = s.attributes.find("DeliveryPolicy");
    const std::string policy = delivery != s.attributes.end() ? delivery->second : "";
    if (!policy.empty()) out["DeliveryPolicy"] = SubscriptionDeliveryPolicyView(policy);
    out["EffectiveDeliveryPolicy"] = SubscriptionEffectiveDeliveryPolicy(policy, topic_policy);
  }
  return out;
}

Result<std::shared_ptr<const FilterPolicy>> CompileSubscriptionFilter(
    const AttributeMap& attributes) {
  auto policy = attributes.find("FilterPolicy");
  if (policy == attributes.end() || policy->second.empty()) {
    return std::shared_ptr<const FilterPolicy>();
  }
  auto scope = attributes.find("FilterPolicyScope");
  bool body = scope != attributes.end() && scope->second == "MessageBody";
  return FilterPolicy::Compile(policy->second,
                               body ? FilterScope::kMessageBody : FilterScope::kMessageAttributes);
}

Status ToAttributesReason(const Status& status) {
  constexpr std::string_view kPrefix = "Invalid parameter: ";
  if (status.ok() || status.code() != ErrorCode::kInvalidParameter ||
      status.message().rfind(kPrefix, 0) != 0) {
    return status;
  }
  return Status(status.code(), std::string(kPrefix) +
                                   "Attributes Reason: " + status.message().substr(kPrefix.size()));
}

namespace {

// Reserved names, except those SNS itself reads on Publish (SMS sender settings, mobile push
// options): those stay allowed.
bool IsReservedAttributeName(const std::string& name) {
  if (!HasReservedAttributePrefix(name)) return false;
  static const std::set<std::string, std::less<>> kSnsOwn = {
      "AWS.SNS.SMS.SenderID",         "AWS.SNS.SMS.MaxPrice", "AWS.SNS.SMS.SMSType",
      "AWS.MM.SMS.OriginationNumber", "AWS.MM.SMS.EntityId",  "AWS.MM.SMS.TemplateId"};
  return !kSnsOwn.count(name) && name.rfind("AWS.SNS.MOBILE.", 0) != 0;
}

}  // namespace

Status ValidatePublishAttributes(const MessageAttributes& attributes) {
  for (const auto& [name, value] : attributes) {
    const std::string& type = value.data_type;
    std::string base = type.substr(0, type.find('.'));
    if (type.empty()) {
      // The wire layers refuse this first, naming the batch entry; this covers other callers.
      return Status(ErrorCode::kValidationError,
                    "1 validation error detected: Value null at 'messageAttributes." + name +
                        ".member.dataType' failed to satisfy constraint: Member must not be null");
    }
    if (name.empty() || name.size() > 256) {
      return Status(ErrorCode::kInvalidParameterValue,
                    "Length of message attribute name must be less than 256 bytes.");
    }
    if (name.front() == '.' || name.back() == '.') {
      return Status(ErrorCode::kInvalidParameterValue,
                    std::string("Invalid message attribute name ") +
                        (name.front() == '.' ? "starting" : "ending") +
                        " with character '.' was found.");
    }
    if (name.find("..") != std::string::npos) {
      return Status(ErrorCode::kInvalidParameterValue,
                    "Message attribute name can not have successive '.' character.");
    }
    for (char c : name) {
      if (!std::isalnum(uint8_t(c)) && c != '-' && c != '_' && c != '.') {
        char hex[8];
        std::snprintf(hex, sizeof hex, "%X", unsigned(uint8_t(c)));
        return Status(ErrorCode::kInvalidParameterValue,
                      std::string("Invalid non-alphanumeric character '#x") + hex +
                          "' was found in the message attribute name. Can only include "
                          "alphanumeric characters, hyphens, underscores, or dots.");
      }
    }
    if (IsReservedAttributeName(name)) {
      return Status(ErrorCode::kInvalidParameterValue,
                    "Message attribute names starting with 'AWS.' or 'Amazon.' are reserved for "
                    "use by Amazon.");
    }
    // A custom type needs a label after its dot: "String.x" is a String, "String." is nothing.
    bool empty_label = base.size() + 1 == type.size();
    if ((base != "String" && base != "Number" && base != "Binary") || empty_label) {
      return Status(ErrorCode::kInvalidParameterValue,
                    "The message attribute '" + name +
                        "' has an invalid message attribute type, "
                        "the set of supported type prefixes is Binary, Number, and String.");
    }
    bool wrong_field = base == "Binary" ? !value.string_value.empty() : !value.binary_value.empty();
    if (wrong_field) {
      return Status(ErrorCode::kInvalidParameterValue,
                    "The message attribute '" + name + "' with type '" + base +
                        "' must use field '" + (base == "Binary" ? "Binary" : "String") + "'.");
    }
    bool empty = base == "Binary" ? value.binary_value.empty() : value.string_value.empty();
    if (empty) {
      return Status(ErrorCode::kInvalidParameterValue,
                    "The message attribute '" + name +
                        "' must contain non-empty message "
                        "attribute value for message attribute type '" +
                        base + "'.");
    }
  }
  return Status::Ok();
}

}  // namespace postbox::core
