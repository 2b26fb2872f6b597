// SNS's SMS operations: Publish to a phone number (from publish_actions.cc), the opt-out list
// and the account's SMS attributes.
#include "core/sms/sms_service.h"
#include "wire/sns/sns_call.h"

namespace postbox::wire::sns {
namespace {

// The SMS service, or the answer for a server built without one.
core::SmsService* SmsOrFail(SnsCall& call, const Reply& reply) {
  if (call.sms == nullptr) {
    reply(Status(ErrorCode::kUnsupportedOperation, "SMS is not available on this server."));
  }
  return call.sms;
}

// Replies with an empty <ActionResult/> once stored: botocore's model gives these actions an
// output shape, which it expects to find even when empty.
std::function<void(Status)> ReplyEmptyResult(Reply reply) {
  return [reply = std::move(reply)](Status s) {
    if (!s.ok()) return reply(s);
    Answer(reply, [](XmlWriter&) {});
  };
}

std::string Scope(const SnsCall& call) {
  return core::AccountScope(call.context.region, call.context.account);
}

}  // namespace

void PublishToPhoneNumber(SnsCall& call, const core::PublishRequest& request, Reply reply) {
  core::SmsService* sms = SmsOrFail(call, reply);
  if (sms == nullptr) return;
  sms->Publish(Scope(call), call.String("PhoneNumber"), request, [reply](Result<std::string> id) {
    if (!id.ok()) return reply(id.status());
    Answer(reply, [id = *id](XmlWriter& xml) { xml.Element("MessageId", id); });
  });
}

void CheckIfPhoneNumberIsOptedOut(SnsCall& call, Reply reply) {
  core::SmsService* sms = SmsOrFail(call, reply);
  if (sms == nullptr) return;
  auto number = call.Required("phoneNumber");
  if (!number.ok()) return reply(number.status());
  auto opted_out = sms->IsOptedOut(Scope(call), *number);
  if (!opted_out.ok()) return reply(opted_out.status());
  Answer(reply, [opted_out = *opted_out](XmlWriter& xml) {
    xml.Element("isOptedOut", opted_out ? "true" : "false");
  });
}

void ListPhoneNumbersOptedOut(SnsCall& call, Reply reply) {
  core::SmsService* sms = SmsOrFail(call, reply);
  if (sms == nullptr) return;
  auto page = sms->ListOptedOut(Scope(call), call.String("nextToken"));
  if (!page.ok()) return reply(page.status());
  Answer(reply, [page = *page](XmlWriter& xml) {
    xml.Open("phoneNumbers");
    for (const std::string& number : page.first) xml.Element("member", number);
    xml.Close();
    if (!page.second.empty()) xml.Element("nextToken", page.second);
  });
}

void OptInPhoneNumber(SnsCall& call, Reply reply) {
  core::SmsService* sms = SmsOrFail(call, reply);
  if (sms == nullptr) return;
  auto number = call.Required("phoneNumber");
  if (!number.ok()) return reply(number.status());
  sms->OptIn(Scope(call), *number, ReplyEmptyResult(reply));
}

void SetSMSAttributes(SnsCall& call, Reply reply) {
  core::SmsService* sms = SmsOrFail(call, reply);
  if (sms == nullptr) return;
  if (!call.input.contains("attributes")) {
    return reply(Status(ErrorCode::kInvalidParameter,
                        "Invalid parameter: attributes Reason: no value for required parameter"));
  }
  sms->SetAttributes(Scope(call), call.Map("attributes"), ReplyEmptyResult(reply));
}

void GetSMSAttributes(SnsCall& call, Reply reply) {
  core::SmsService* sms = SmsOrFail(call, reply);
  if (sms == nullptr) return;
  auto attributes = sms->GetAttributes(Scope(call), call.StringList("attributes"));
  Answer(reply, [attributes = std::move(attributes)](XmlWriter& xml) {
    WriteAttributeMap(xml, "attributes", attributes);
  });
}

}  // namespace postbox::wire::sns
