// SES v1 over the query protocol: SendEmail, SendRawEmail, VerifyEmailIdentity (and the older
// VerifyEmailAddress), ListIdentities, GetIdentityVerificationAttributes, DeleteIdentity,
// GetSendQuota. Answers are XML in SES's 2010-12-01 namespace; errors are <ErrorResponse>
// with SES's codes.

#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "wire/common/xml_writer.h"
#include "wire/ses/ses_call.h"
#include "wire/sns/sns_query.h"

namespace postbox::wire::ses {
namespace {

using nlohmann::json;
using Writer = std::function<void(XmlWriter&)>;

// This API's own answers; ErrorFor answers the rest.
std::optional<SesError> ApiCodes(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidParameterValue:
    case ErrorCode::kInvalidParameter:
      return SesError{"InvalidParameterValue", 400};
    case ErrorCode::kMissingParameter:
    case ErrorCode::kValidationError:
      return SesError{"ValidationError", 400};
    case ErrorCode::kMessageRejected:
      return SesError{"MessageRejected", 400};
    case ErrorCode::kMissingAuthenticationToken:
      return SesError{"MissingAuthenticationToken", 403};
    case ErrorCode::kIncompleteSignature:
      return SesError{"IncompleteSignature", 400};
    case ErrorCode::kInvalidClientTokenId:
      return SesError{"InvalidClientTokenId", 403};
    case ErrorCode::kSignatureDoesNotMatch:
      return SesError{"SignatureDoesNotMatch", 403};
    case ErrorCode::kRequestExpired:
      return SesError{"RequestExpired", 400};
    case ErrorCode::kThrottling:
      return SesError{"Throttling", 400};
    case ErrorCode::kAccessDenied:
      return SesError{"AccessDenied", 403};
    case ErrorCode::kInvalidAction:
      return SesError{"InvalidAction", 400};
    case ErrorCode::kUnsupportedOperation:
      return SesError{"UnsupportedOperation", 400};
    case ErrorCode::kMalformedRequest:
      return SesError{"MalformedQueryString", 400};
    default:
      return std::nullopt;
  }
}

HttpResponse XmlAnswer(int status, std::string body, const std::string& request_id) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/xml";
  r.headers.emplace_back("x-amzn-RequestId", request_id);
  r.body = std::move(body);
  return r;
}

void Fail(const SesCall& call, const Status& s) {
  const SesError info = ErrorFor(call, s, ApiCodes);
  XmlWriter xml;
  xml.Open("ErrorResponse", kSesV1Namespace);
  xml.Open("Error");
  xml.Element("Type", info.status >= 500 ? "Receiver" : "Sender");
  xml.Element("Code", info.code);
  xml.Element("Message", s.message());
  xml.Close();
  xml.Element("RequestId", call.context.request_id);
  call.respond(XmlAnswer(info.status, xml.Finish(), call.context.request_id), s.code());
}

void Succeed(const SesCall& call, const Writer& write) {
  XmlWriter xml;
  xml.Open(call.action + "Response", kSesV1Namespace);
  xml.Open(call.action + "Result");
  if (write) write(xml);
  xml.Close();
  xml.Open("ResponseMetadata");
  xml.Element("RequestId", call.context.request_id);
  xml.Close();
  call.respond(XmlAnswer(200, xml.Finish(), call.context.request_id), ErrorCode::kOk);
}

// AWS's wording for a required member that is absent.
Status Missing(const char* member) {
  return Status(ErrorCode::kValidationError,
                std::string("1 validation error detected: Value null at '") + member +
                    "' failed to satisfy constraint: Member must not be null");
}

std::string Number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", value);
  return buffer;
}

void Send(const std::shared_ptr<SesCall>& call, core::OutgoingEmail email) {
  call->email->Send(call->context.region, call->context.account, std::move(email),
                    [call](Result<std::string> id) {
                      if (!id.ok()) return Fail(*call, id.status());
                      Succeed(*call, [id = *id](XmlWriter& xml) { xml.Element("MessageId", id); });
                    });
}

void SendEmail(const std::shared_ptr<SesCall>& call, const json& in) {
  core::OutgoingEmail email;
  email.source = TextAt(in, {"Source"});
  if (email.source.empty()) return Fail(*call, Missing("source"));
  if (!in.contains("Message")) return Fail(*call, Missing("message"));
  email.to = StringsAt(in, {"Destination", "ToAddresses"});
  email.cc = StringsAt(in, {"Destination", "CcAddresses"});
  email.bcc = StringsAt(in, {"Destination", "BccAddresses"});
  email.reply_to = StringsAt(in, {"ReplyToAddresses"});
  email.subject = TextAt(in, {"Message", "Subject", "Data"});
  email.text = TextAt(in, {"Message", "Body", "Text", "Data"});
  email.html = TextAt(in, {"Message", "Body", "Html", "Data"});
  Send(call, std::move(email));
}

void SendRawEmail(const std::shared_ptr<SesCall>& call, const json& in) {
  const std::string data = TextAt(in, {"RawMessage", "Data"});
  if (data.empty()) return Fail(*call, Missing("rawMessage"));
  auto raw = Base64Decode(data);
  if (!raw) {
    return Fail(*call, Status(ErrorCode::kInvalidParameterValue,
                              "Invalid base64 value for RawMessage.Data"));
  }
  core::OutgoingEmail email;
  email.raw = std::move(*raw);
  email.source = TextAt(in, {"Source"});
  email.destinations = StringsAt(in, {"Destinations"});
  Send(call, std::move(email));
}

void VerifyEmailIdentity(const std::shared_ptr<SesCall>& call, const json& in) {
  std::string address = TextAt(in, {"EmailAddress"});
  if (address.empty()) return Fail(*call, Missing("emailAddress"));
  call->email->VerifyEmailIdentity(call->context.region, call->context.account, address,
                                   call->base_url, [call](Status s) {
                                     if (!s.ok()) return Fail(*call, s);
                                     Succeed(*call, nullptr);
                                   });
}

const char* StatusName(const core::EmailIdentity& identity) {
  return identity.verified ? "Success" : "Pending";
}

void ListIdentities(const std::shared_ptr<SesCall>& call, const json& in) {
  const std::string type = TextAt(in, {"IdentityType"});
  if (!type.empty() && type != "EmailAddress" && type != "Domain") {
    return Fail(*call, Status(ErrorCode::kValidationError,
                              "1 validation error detected: Value '" + type +
                                  "' at 'identityType' failed to satisfy constraint: Member must "
                                  "satisfy enum value set: [Domain, EmailAddress]"));
  }
  std::vector<std::string> names;
  for (const auto& identity :
       call->email->ListIdentities(call->context.region, call->context.account)) {
    const bool is_address = identity.identity.find('@') != std::string::npos;
    if (type.empty() || (type == "EmailAddress") == is_address) names.push_back(identity.identity);
  }
  size_t start = 0;
  const std::string token = TextAt(in, {"NextToken"});
  if (!token.empty()) {
    auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), start);
    if (ec != std::errc() || end != token.data() + token.size() || start > names.size()) {
      return Fail(*call, Status(ErrorCode::kInvalidParameterValue, "Invalid NextToken"));
    }
  }
  size_t max_items = 1000;
  const std::string max = TextAt(in, {"MaxItems"});
  if (!max.empty()) {
    auto [end, ec] = std::from_chars(max.data(), max.data() + max.size(), max_items);
    if (ec != std::errc() || max_items == 0 || max_items > 1000) max_items = 1000;
  }
  const size_t stop = std::min(names.size(), start + max_items);
  Succeed(*call, [names, start, stop](XmlWriter& xml) {
    xml.Open("Identities");
    for (size_t i = start; i < stop; ++i) xml.Element("member", names[i]);
    xml.Close();
    if (stop < names.size()) xml.Element("NextToken", std::to_string(stop));
  });
}

void GetIdentityVerificationAttributes(const std::shared_ptr<SesCall>& call, const json& in) {
  std::vector<core::EmailIdentity> found;
  for (const std::string& name : StringsAt(in, {"Identities"})) {
    // Unknown identities are left out, as SES does.
    if (auto identity =
            call->email->GetIdentity(call->context.region, call->context.account, name)) {
      found.push_back(*identity);
    }
  }
  Succeed(*call, [found](XmlWriter& xml) {
    xml.Open("VerificationAttributes");
    for (const auto& identity : found) {
      xml.Open("entry");
      xml.Element("key", identity.identity);
      xml.Open("value");
      xml.Element("VerificationStatus", StatusName(identity));
      xml.Close();
      xml.Close();
    }
    xml.Close();
  });
}

void DeleteIdentity(const std::shared_ptr<SesCall>& call, const json& in) {
  std::string identity = TextAt(in, {"Identity"});
  if (identity.empty()) return Fail(*call, Missing("identity"));
  call->email->DeleteIdentity(call->context.region, call->context.account, identity,
                              [call](Status s) {
                                if (!s.ok()) return Fail(*call, s);
                                Succeed(*call, nullptr);
                              });
}

void GetSendQuota(const std::shared_ptr<SesCall>& call, const json&) {
  core::SendQuota quota = call->email->Quota();
  Succeed(*call, [quota](XmlWriter& xml) {
    xml.Element("Max24HourSend", Number(double(quota.max_24_hour_send)));
    xml.Element("MaxSendRate", Number(double(quota.max_send_rate)));
    xml.Element("SentLast24Hours", Number(double(quota.sent_last_24_hours)));
  });
}

using Action = void (*)(const std::shared_ptr<SesCall>&, const json&);

const std::map<std::string, Action>& Actions() {
  static const std::map<std::string, Action> actions = {
      {"SendEmail", &SendEmail},
      {"SendRawEmail", &SendRawEmail},
      {"VerifyEmailIdentity", &VerifyEmailIdentity},
      {"VerifyEmailAddress", &VerifyEmailIdentity},
      {"ListIdentities", &ListIdentities},
      {"GetIdentityVerificationAttributes", &GetIdentityVerificationAttributes},
      {"DeleteIdentity", &DeleteIdentity},
      {"GetSendQuota", &GetSendQuota},
  };
  return actions;
}

}  // namespace

void RefuseQueryCall(const std::shared_ptr<SesCall>& call, const Status& status) {
  call->action = "unknown";
  Fail(*call, status);
}

void HandleQueryCall(const std::shared_ptr<SesCall>& call, const Result<FormFields>& fields) {
  if (!fields.ok()) {
    call->action = "unknown";
    return Fail(*call, fields.status());
  }
  json in = sns::QueryToInput(*fields);
  const std::string action = TextAt(in, {"Action"});
  auto it = Actions().find(action);
  if (it == Actions().end()) {
    // Not one of postbox's: SES's other operations (templates, domains, configuration sets,
    // receipt rules...) are known to AWS, so they get the unsupported-operation answer.
    if (action.empty()) {
      call->action = "unknown";
      return Fail(*call, Status(ErrorCode::kMissingParameter,
                                "1 validation error detected: Value null at 'action' failed to "
                                "satisfy constraint: Member must not be null"));
    }
    call->action = "unknown";
    return Fail(*call, Status(ErrorCode::kUnsupportedOperation,
                              action + " is not supported by postbox (SES: postbox implements "
                                       "SendEmail, SendRawEmail and email identities)."));
  }
  call->action = action;
  if (Status s = CheckSesAccess(*call); !s.ok()) return Fail(*call, s);
  it->second(call, in);
}

}  // namespace postbox::wire::ses
