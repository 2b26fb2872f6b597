// SES v2 over rest-json (/v2/email/...): SendEmail (Simple and Raw content), the email
// identity operations (CreateEmailIdentity, GetEmailIdentity, ListEmailIdentities,
// DeleteEmailIdentity) and GetAccount's sending quota. Errors carry their code in the
// x-amzn-ErrorType header and {"message": ...} in the body, as botocore and the JS SDK read them.

#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "wire/common/json_writer.h"
#include "wire/ses/ses_call.h"

namespace postbox::wire::ses {
namespace {

using nlohmann::json;

// This API's own answers; ErrorFor answers the rest.
std::optional<SesError> ApiCodes(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidParameterValue:
    case ErrorCode::kInvalidParameter:
    case ErrorCode::kMissingParameter:
    case ErrorCode::kValidationError:
    case ErrorCode::kMalformedRequest:
      return SesError{"BadRequestException", 400};
    case ErrorCode::kMessageRejected:
      return SesError{"MessageRejected", 400};
    // rest-json services name the common authentication errors as exceptions.
    case ErrorCode::kMissingAuthenticationToken:
      return SesError{"MissingAuthenticationTokenException", 403};
    case ErrorCode::kIncompleteSignature:
      return SesError{"IncompleteSignatureException", 400};
    case ErrorCode::kInvalidClientTokenId:
      return SesError{"UnrecognizedClientException", 403};
    case ErrorCode::kSignatureDoesNotMatch:
    case ErrorCode::kRequestExpired:
      return SesError{"InvalidSignatureException", 403};
    case ErrorCode::kThrottling:
      return SesError{"TooManyRequestsException", 429};
    case ErrorCode::kAccessDenied:
      return SesError{"AccessDeniedException", 403};
    case ErrorCode::kNotFound:
    case ErrorCode::kResourceNotFound:
      return SesError{"NotFoundException", 404};
    case ErrorCode::kAlreadyExists:
      return SesError{"AlreadyExistsException", 400};
    case ErrorCode::kUnsupportedOperation:
    case ErrorCode::kInvalidAction:
      return SesError{"UnknownOperationException", 404};
    default:
      return std::nullopt;
  }
}

HttpResponse JsonAnswer(int status, const json& body, const std::string& request_id) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.headers.emplace_back("x-amzn-RequestId", request_id);
  r.body = ToJson(body);
  return r;
}

void Fail(const SesCall& call, const Status& s) {
  const SesError info = ErrorFor(call, s, ApiCodes);
  HttpResponse r = JsonAnswer(info.status, json{{"message", s.message()}}, call.context.request_id);
  r.headers.emplace_back("x-amzn-ErrorType", info.code);
  call.respond(std::move(r), s.code());
}

void Succeed(const SesCall& call, const json& body) {
  call.respond(JsonAnswer(200, body, call.context.request_id), ErrorCode::kOk);
}

Status BadRequest(const std::string& message) {
  return Status(ErrorCode::kInvalidParameterValue, message);
}

json IdentityJson(const core::EmailIdentity& identity) {
  return {{"IdentityType",
           identity.identity.find('@') != std::string::npos ? "EMAIL_ADDRESS" : "DOMAIN"},
          {"FeedbackForwardingStatus", true},
          {"VerifiedForSendingStatus", identity.verified},
          {"VerificationStatus", identity.verified ? "SUCCESS" : "PENDING"},
          {"Tags", json::array()}};
}

void SendEmail(const std::shared_ptr<SesCall>& call, const json& in) {
  core::OutgoingEmail email;
  email.source = TextAt(in, {"FromEmailAddress"});
  email.to = StringsAt(in, {"Destination", "ToAddresses"});
  email.cc = StringsAt(in, {"Destination", "CcAddresses"});
  email.bcc = StringsAt(in, {"Destination", "BccAddresses"});
  email.reply_to = StringsAt(in, {"ReplyToAddresses"});
  const json* content = in.contains("Content") ? &in["Content"] : nullptr;
  if (content == nullptr || !content->is_object()) {
    return Fail(*call, BadRequest("Content is required"));
  }
  if (content->contains("Raw")) {
    auto raw = Base64Decode(TextAt(*content, {"Raw", "Data"}));
    if (!raw || raw->empty()) return Fail(*call, BadRequest("Raw message data is invalid"));
    email.raw = std::move(*raw);
    for (const auto* list : {&email.to, &email.cc, &email.bcc}) {
      email.destinations.insert(email.destinations.end(), list->begin(), list->end());
    }
  } else if (content->contains("Simple")) {
    if (email.source.empty()) return Fail(*call, BadRequest("Missing final '@domain'"));
    email.subject = TextAt(*content, {"Simple", "Subject", "Data"});
    email.text = TextAt(*content, {"Simple", "Body", "Text", "Data"});
    email.html = TextAt(*content, {"Simple", "Body", "Html", "Data"});
  } else {
    return Fail(*call, Status(ErrorCode::kUnsupportedOperation,
                              "Template content is not supported by postbox: send Simple or Raw "
                              "content."));
  }
  call->email->Send(call->context.region, call->context.account, std::move(email),
                    [call](Result<std::string> id) {
                      if (!id.ok()) return Fail(*call, id.status());
                      Succeed(*call, {{"MessageId", *id}});
                    });
}

void CreateEmailIdentity(const std::shared_ptr<SesCall>& call, const json& in) {
  const std::string name = TextAt(in, {"EmailIdentity"});
  if (name.empty()) return Fail(*call, BadRequest("EmailIdentity is required"));
  call->email->CreateEmailIdentity(
      call->context.region, call->context.account, name, call->base_url, [call, name](Status s) {
        if (!s.ok()) return Fail(*call, s);
        auto identity = call->email->GetIdentity(call->context.region, call->context.account, name);
        Succeed(*call, {{"IdentityType", "EMAIL_ADDRESS"},
                        {"VerifiedForSendingStatus", identity && identity->verified}});
      });
}

void GetEmailIdentity(const std::shared_ptr<SesCall>& call, const std::string& name) {
  auto identity = call->email->GetIdentity(call->context.region, call->context.account, name);
  if (!identity) {
    return Fail(*call,
                Status(ErrorCode::kNotFound, "Email identity <" + name + "> does not exist."));
  }
  Succeed(*call, IdentityJson(*identity));
}

void DeleteEmailIdentity(const std::shared_ptr<SesCall>& call, const std::string& name) {
  if (!call->email->GetIdentity(call->context.region, call->context.account, name)) {
    return Fail(*call,
                Status(ErrorCode::kNotFound, "Email identity <" + name + "> does not exist."));
  }
  call->email->DeleteIdentity(call->context.region, call->context.account, name, [call](Status s) {
    if (!s.ok()) return Fail(*call, s);
    Succeed(*call, json::object());
  });
}

void ListEmailIdentities(const std::shared_ptr<SesCall>& call) {
  json list = json::array();
  for (const auto& identity :
       call->email->ListIdentities(call->context.region, call->context.account)) {
    json entry = IdentityJson(identity);
    list.push_back({{"IdentityType", entry["IdentityType"]},
                    {"IdentityName", identity.identity},
                    {"SendingEnabled", true},
                    {"VerificationStatus", entry["VerificationStatus"]}});
  }
  Succeed(*call, {{"EmailIdentities", list}});
}

void GetAccount(const std::shared_ptr<SesCall>& call) {
  core::SendQuota quota = call->email->Quota();
  Succeed(*call, {{"SendQuota",
                   {{"Max24HourSend", double(quota.max_24_hour_send)},
                    {"MaxSendRate", double(quota.max_send_rate)},
                    {"SentLast24Hours", double(quota.sent_last_24_hours)}}},
                  {"SendingEnabled", true},
                  {"ProductionAccessEnabled", true},
                  {"EnforcementStatus", "HEALTHY"},
                  {"DedicatedIpAutoWarmupEnabled", false}});
}

}  // namespace

void RefuseV2Call(const std::shared_ptr<SesCall>& call, const Status& status) {
  call->action = "unknown";
  Fail(*call, status);
}

void HandleV2Call(const std::shared_ptr<SesCall>& call, const HttpRequest& request) {
  const std::string path(request.Path());
  const std::string& method = request.method;
  constexpr std::string_view kIdentities = "/v2/email/identities";
  json in = json::object();
  if (!request.body.empty()) {
    in = json::parse(request.body, nullptr, false);
    if (!in.is_object()) {
      call->action = "unknown";
      return Fail(*call, Status(ErrorCode::kMalformedRequest, "The request body is not JSON."));
    }
  }
  if (method == "POST" && path == "/v2/email/outbound-emails") {
    call->action = "SendEmail";
    if (Status s = CheckSesAccess(*call); !s.ok()) return Fail(*call, s);
    return SendEmail(call, in);
  }
  if (method == "POST" && path == kIdentities) {
    call->action = "CreateEmailIdentity";
    if (Status s = CheckSesAccess(*call); !s.ok()) return Fail(*call, s);
    return CreateEmailIdentity(call, in);
  }
  if (method == "GET" && path == kIdentities) {
    call->action = "ListEmailIdentities";
    if (Status s = CheckSesAccess(*call); !s.ok()) return Fail(*call, s);
    return ListEmailIdentities(call);
  }
  if (path.rfind(std::string(kIdentities) + "/", 0) == 0) {
    // A path segment: '+' is itself (user+tag@example.com), not a space as in a form.
    std::string segment = path.substr(kIdentities.size() + 1);
    for (size_t at = segment.find('+'); at != std::string::npos; at = segment.find('+', at + 3)) {
      segment.replace(at, 1, "%2B");
    }
    auto name = UrlDecode(segment);
    if (name && name->find('/') == std::string::npos) {
      if (method == "GET") {
        call->action = "GetEmailIdentity";
        if (Status s = CheckSesAccess(*call); !s.ok()) return Fail(*call, s);
        return GetEmailIdentity(call, *name);
      }
      if (method == "DELETE") {
        call->action = "DeleteEmailIdentity";
        if (Status s = CheckSesAccess(*call); !s.ok()) return Fail(*call, s);
        return DeleteEmailIdentity(call, *name);
      }
    }
  }
  if (method == "GET" && path == "/v2/email/account") {
    call->action = "GetAccount";
    if (Status s = CheckSesAccess(*call); !s.ok()) return Fail(*call, s);
    return GetAccount(call);
  }
  call->action = "unknown";
  Fail(*call, Status(ErrorCode::kUnsupportedOperation,
                     method + " " + path +
                         " is not supported by postbox (SES v2: postbox "
                         "implements SendEmail, email identities and GetAccount)."));
}

}  // namespace postbox::wire::ses
