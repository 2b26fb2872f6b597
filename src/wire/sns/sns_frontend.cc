#include "wire/sns/sns_frontend.h"

#include <spdlog/spdlog.h>

#include <unordered_map>

#include "base/clock.h"
#include "base/encoding.h"
#include "wire/common/form.h"
#include "wire/sns/sns_arn.h"
#include "wire/sns/sns_call.h"
#include "wire/sns/sns_query.h"

namespace postbox::wire::sns {
namespace {

constexpr std::string_view kApiVersion = "Version=2010-03-31";

const std::unordered_map<std::string, Handler>& Handlers() {
  static const std::unordered_map<std::string, Handler> handlers = {
      {"CreateTopic", &CreateTopic},
      {"DeleteTopic", &DeleteTopic},
      {"ListTopics", &ListTopics},
      {"GetTopicAttributes", &GetTopicAttributes},
      {"SetTopicAttributes", &SetTopicAttributes},
      {"Subscribe", &Subscribe},
      {"ConfirmSubscription", &ConfirmSubscription},
      {"Unsubscribe", &Unsubscribe},
      {"ListSubscriptions", &ListSubscriptions},
      {"ListSubscriptionsByTopic", &ListSubscriptionsByTopic},
      {"GetSubscriptionAttributes", &GetSubscriptionAttributes},
      {"SetSubscriptionAttributes", &SetSubscriptionAttributes},
      {"Publish", &Publish},
      {"PublishBatch", &PublishBatch},
      {"AddPermission", &AddPermission},
      {"RemovePermission", &RemovePermission},
      {"PutDataProtectionPolicy", &PutDataProtectionPolicy},
      {"GetDataProtectionPolicy", &GetDataProtectionPolicy},
      {"TagResource", &TagResource},
      {"UntagResource", &UntagResource},
      {"ListTagsForResource", &ListTagsForResource},
      {"CheckIfPhoneNumberIsOptedOut", &CheckIfPhoneNumberIsOptedOut},
      {"ListPhoneNumbersOptedOut", &ListPhoneNumbersOptedOut},
      {"OptInPhoneNumber", &OptInPhoneNumber},
      {"SetSMSAttributes", &SetSMSAttributes},
      {"GetSMSAttributes", &GetSMSAttributes},
      {"CreatePlatformApplication", &CreatePlatformApplication},
      {"GetPlatformApplicationAttributes", &GetPlatformApplicationAttributes},
      {"SetPlatformApplicationAttributes", &SetPlatformApplicationAttributes},
      {"DeletePlatformApplication", &DeletePlatformApplication},
      {"ListPlatformApplications", &ListPlatformApplications},
      {"CreatePlatformEndpoint", &CreatePlatformEndpoint},
      {"GetEndpointAttributes", &GetEndpointAttributes},
      {"SetEndpointAttributes", &SetEndpointAttributes},
      {"DeleteEndpoint", &DeleteEndpoint},
      {"ListEndpointsByPlatformApplication", &ListEndpointsByPlatformApplication},
  };
  return handlers;
}

// Operations of the SNS API that postbox does not implement (yet): the unsupported-operation
// error rather than "invalid action", so that a user sees what is missing.
bool IsKnownUnsupported(const std::string& action) {
  static const char* kActions[] = {"CreateSMSSandboxPhoneNumber", "DeleteSMSSandboxPhoneNumber",
                                   "GetSMSSandboxAccountStatus",  "ListOriginationNumbers",
                                   "ListSMSSandboxPhoneNumbers",  "VerifySMSSandboxPhoneNumber"};
  for (const char* known : kActions) {
    if (action == known) return true;
  }
  return false;
}

struct ErrorInfo {
  const char* code;
  int http_status;
};

ErrorInfo Lookup(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidParameter:
    case ErrorCode::kMissingParameter:
    case ErrorCode::kInvalidAttributeName:
    case ErrorCode::kInvalidAttributeValue:
      return {"InvalidParameter", 400};
    case ErrorCode::kInvalidParameterValue:
      return {"ParameterValueInvalid", 400};
    case ErrorCode::kNotFound:
      return {"NotFound", 404};
    case ErrorCode::kEndpointDisabled:
      return {"EndpointDisabled", 400};
    case ErrorCode::kValidationError:
      return {"ValidationError", 400};
    case ErrorCode::kResourceNotFound:
      return {"ResourceNotFound", 404};
    case ErrorCode::kOverLimit:
      return {"TagLimitExceeded", 400};
    case ErrorCode::kAccessDenied:
      return {"AuthorizationError", 403};
    case ErrorCode::kThrottling:  // a key over its requests_per_second, or storage behind
      return {"Throttled", 429};
    case ErrorCode::kMissingAuthenticationToken:
      return {"MissingAuthenticationToken", 403};
    case ErrorCode::kIncompleteSignature:
      return {"IncompleteSignature", 400};
    case ErrorCode::kInvalidClientTokenId:
      return {"InvalidClientTokenId", 403};
    case ErrorCode::kSignatureDoesNotMatch:
      return {"SignatureDoesNotMatch", 403};
    case ErrorCode::kRequestExpired:
      return {"RequestExpired", 400};
    case ErrorCode::kInvalidAction:
      return {"InvalidAction", 400};
    case ErrorCode::kUnsupportedOperation:
      return {"UnsupportedOperation", 400};
    case ErrorCode::kMalformedRequest:
    case ErrorCode::kInvalidContentType:
      return {"MalformedQueryString", 400};
    case ErrorCode::kRequestTooLarge:
      return {"RequestEntityTooLarge", 413};
    case ErrorCode::kEmptyBatchRequest:
      return {"EmptyBatchRequest", 400};
    case ErrorCode::kTooManyEntriesInBatchRequest:
      return {"TooManyEntriesInBatchRequest", 400};
    case ErrorCode::kBatchEntryIdsNotDistinct:
      return {"BatchEntryIdsNotDistinct", 400};
    case ErrorCode::kInvalidBatchEntryId:
      return {"InvalidBatchEntryId", 400};
    case ErrorCode::kBatchRequestTooLong:
      return {"BatchRequestTooLong", 400};
    // Storage that cannot write: 503, which AWS's SDKs retry with backoff.
    case ErrorCode::kStorageError:
    case ErrorCode::kStorageFull:
    case ErrorCode::kServiceUnavailable:
      return {"ServiceUnavailable", 503};
    default:
      return {"InternalError", 500};
  }
}

HttpResponse ErrorResponse(const Status& status, const std::string& request_id) {
  ErrorInfo info = Lookup(status.code());
  HttpResponse response;
  response.status = info.http_status;
  response.content_type = "text/xml";
  response.headers.emplace_back("x-amzn-RequestId", request_id);
  XmlWriter xml;
  xml.Open("ErrorResponse", kXmlNamespace);
  xml.Open("Error");
  xml.Element("Type", info.http_status >= 500 ? "Receiver" : "Sender");
  xml.Element("Code", info.code);
  xml.Element("Message", status.message());
  xml.Close();
  xml.Element("RequestId", request_id);
  response.body = xml.Finish();
  return response;
}

HttpResponse SuccessResponse(const std::string& action, const ResultWriter& write,
                             const std::string& request_id) {
  HttpResponse response;
  response.content_type = "text/xml";
  response.headers.emplace_back("x-amzn-RequestId", request_id);
  XmlWriter xml;
  xml.Open(action + "Response", kXmlNamespace);
  if (write) {
    xml.Open(action + "Result");
    write(xml);
    xml.Close();
  }
  xml.Open("ResponseMetadata");
  xml.Element("RequestId", request_id);
  xml.Close();
  response.body = xml.Finish();
  return response;
}

}  // namespace

SnsFrontend::SnsFrontend(core::TopicService& topics, SnsOptions options)
    : topics_(topics), options_(std::move(options)) {}

bool SnsFrontend::IsSnsRequest(const HttpRequest& request) {
  if (!request.Header("x-amz-target").empty()) return false;
  const std::string_view authorization = request.Header("authorization");
  if (authorization.find("/sns/aws4_request") != std::string_view::npos) return true;
  // Signed for SQS, or naming SQS's version: SQS, even if an SNS ARN appears (queue policies
  // name topics).
  if (authorization.find("/sqs/aws4_request") != std::string_view::npos ||
      request.Query().find("Version=2012-11-05") != std::string_view::npos) {
    return false;
  }
  // Visits of SubscribeURL and UnsubscribeURL carry no signature and no version, but an SNS ARN.
  std::string_view query = request.Query();
  if (query.find("arn:aws:sns:") != std::string_view::npos ||
      query.find("arn%3Aaws%3Asns%3A") != std::string_view::npos) {
    return true;
  }
  return query.find(kApiVersion) != std::string_view::npos ||
         std::string_view(request.body).substr(0, 4096).find(kApiVersion) != std::string_view::npos;
}

void SnsFrontend::Handle(const HttpRequest& request,
                         std::function<void(HttpResponse)> respond_unmeasured) {
  auto call = std::make_shared<SnsCall>();
  // Every answer is counted by action and outcome, with the time it took.
  auto respond = [metrics = options_.metrics, call, started = StopwatchMicros(),
                  respond = std::move(respond_unmeasured)](HttpResponse r, ErrorCode code) {
    if (metrics != nullptr) {
      const bool known = Handlers().count(call->action) > 0 || IsKnownUnsupported(call->action);
      metrics->Observe("sns", known ? std::string_view(call->action) : "unknown", code,
                       StopwatchMicros() - started);
    }
    respond(std::move(r));
  };
  call->topics = &topics_;
  call->sms = options_.sms;
  call->push = options_.push;
  call->context.request_id = NewUuid();
  call->context.region = options_.default_region;
  call->context.account = options_.default_account;
  call->context.host = request.Header("host");
  if (call->context.host.empty()) call->context.host = "localhost";
  call->context.scheme = request.Scheme();
  call->context.trace_header = request.Header("x-amzn-trace-id");
  call->base_url = options_.public_url.empty() ? call->context.scheme + "://" + call->context.host
                                               : options_.public_url;
  ParseCredentialScope(request, &call->context);
  const std::string request_id = call->context.request_id;
  auto fail = [&](Status s) { respond(ErrorResponse(s, request_id), s.code()); };

  auto fields = ParseForm(request.Query());
  if (!fields.ok()) return fail(fields.status());
  if (request.method == "POST" && !request.body.empty()) {
    const std::string content_type(request.Header("content-type"));
    if (content_type.rfind("application/x-www-form-urlencoded", 0) != 0) {
      return fail(Status(ErrorCode::kInvalidContentType,
                         "The content type " + content_type + " is not supported."));
    }
    auto body = ParseForm(request.body);
    if (!body.ok()) return fail(body.status());
    fields->insert(fields->end(), body->begin(), body->end());
  }
  call->input = QueryToInput(*fields);
  call->action = StringMember(call->input, "Action");
  if (options_.authenticator != nullptr) {
    Status s = options_.authenticator->Authenticate(request, "sns", &call->context);
    // The SubscribeURL and UnsubscribeURL postbox mails and posts are visited unsigned, as on
    // AWS: confirming needs the subscription's 256-bit token, unsubscribing its ARN.
    const bool link_visit =
        request.method == "GET" && s.code() == ErrorCode::kMissingAuthenticationToken &&
        (call->action == "ConfirmSubscription" || call->action == "Unsubscribe");
    if (!s.ok() && !link_visit) return fail(s);
    call->context.unsigned_link_visit = !s.ok();
  }
  if (call->action.empty()) {
    return fail(Status(ErrorCode::kMissingParameter,
                       "Invalid parameter: Action Reason: no value for required parameter"));
  }
  auto handler = Handlers().find(call->action);
  if (handler == Handlers().end()) {
    if (IsKnownUnsupported(call->action)) {
      return fail(Status(ErrorCode::kUnsupportedOperation,
                         call->action + " is not supported by postbox yet."));
    }
    return fail(Status(ErrorCode::kInvalidAction,
                       "The action " + call->action + " is not valid for this endpoint."));
  }
  if (Status s = AuthorizeCall(*call); !s.ok()) return fail(s);
  handler->second(*call, [call, respond = std::move(respond)](Result<ResultWriter> result) {
    if (!result.ok()) {
      const Status& s = result.status();
      // Bugs only: storage trouble is logged once by the engine, not per request.
      if (s.code() == ErrorCode::kInternal) {
        spdlog::error("event=request_failed request_id={} action={} code={} message=\"{}\"",
                      call->context.request_id, call->action, ErrorCodeName(s.code()), s.message());
      }
      return respond(ErrorResponse(s, call->context.request_id), s.code());
    }
    respond(SuccessResponse(call->action, *result, call->context.request_id), ErrorCode::kOk);
  });
}

}  // namespace postbox::wire::sns
