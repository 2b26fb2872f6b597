#include "wire/ses/ses_frontend.h"

#include <spdlog/spdlog.h>

#include <memory>

#include "base/clock.h"
#include "base/encoding.h"
#include "wire/common/access.h"
#include "wire/common/form.h"
#include "wire/ses/ses_call.h"

namespace postbox::wire::ses {

namespace {

const nlohmann::json* At(const nlohmann::json& input, std::initializer_list<const char*> path) {
  const nlohmann::json* at = &input;
  for (const char* name : path) {
    if (!at->is_object()) return nullptr;
    auto it = at->find(name);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at;
}

}  // namespace

SesError ErrorFor(const SesCall& call, const Status& s,
                  std::optional<SesError> (*api_codes)(ErrorCode)) {
  if (auto own = api_codes(s.code())) return *own;
  switch (s.code()) {
    case ErrorCode::kStorageError:
    case ErrorCode::kStorageFull:
    case ErrorCode::kServiceUnavailable:
      return {"ServiceUnavailable", 503};
    default:
      spdlog::error("event=request_failed request_id={} action={} code={} message=\"{}\"",
                    call.context.request_id, call.action, ErrorCodeName(s.code()), s.message());
      return {"InternalFailure", 500};
  }
}

std::string TextAt(const nlohmann::json& input, std::initializer_list<const char*> path) {
  const nlohmann::json* at = At(input, path);
  return at != nullptr && at->is_string() ? at->get<std::string>() : std::string();
}

std::vector<std::string> StringsAt(const nlohmann::json& input,
                                   std::initializer_list<const char*> path) {
  std::vector<std::string> out;
  const nlohmann::json* at = At(input, path);
  if (at == nullptr || !at->is_array()) return out;
  for (const nlohmann::json& v : *at) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

Status CheckSesAccess(const SesCall& call) {
  const std::string every_resource =
      "arn:aws:ses:" + call.context.region + ":" + call.context.account + ":*";
  return CheckAccess(call.context, "ses:" + call.action, every_resource);
}

SesFrontend::SesFrontend(core::EmailService& email, SesOptions options)
    : email_(email), options_(std::move(options)) {}

bool SesFrontend::IsSesRequest(const HttpRequest& request) {
  const std::string_view path = request.Path();
  if (path.rfind("/v2/email/", 0) == 0 || path == "/ses/verify") return true;
  if (!request.Header("x-amz-target").empty()) return false;
  const std::string_view authorization = request.Header("authorization");
  if (authorization.find("/ses/aws4_request") != std::string_view::npos) return true;
  // Signed for another service: never SES, whatever its parameters say.
  if (authorization.find("/aws4_request") != std::string_view::npos) return false;
  constexpr std::string_view kVersion = "Version=2010-12-01";
  return request.Query().find(kVersion) != std::string_view::npos ||
         std::string_view(request.body).substr(0, 4096).find(kVersion) != std::string_view::npos;
}

void SesFrontend::Handle(const HttpRequest& request,
                         std::function<void(HttpResponse)> respond_unmeasured) {
  if (request.Path() == "/ses/verify")
    return HandleVerifyLink(request, std::move(respond_unmeasured));
  auto call = std::make_shared<SesCall>();
  call->email = &email_;
  call->context.request_id = NewUuid();
  call->context.region = options_.default_region;
  call->context.account = options_.default_account;
  call->context.host = request.Header("host");
  if (call->context.host.empty()) call->context.host = "localhost";
  call->context.scheme = request.Scheme();
  ParseCredentialScope(request, &call->context);
  call->base_url = options_.public_url.empty() ? call->context.scheme + "://" + call->context.host
                                               : options_.public_url;
  const bool v2 = request.Path().rfind("/v2/email/", 0) == 0;
  // Every answer is counted by API, action and outcome, with the time it took. The call
  // object lives until then (the handlers capture it).
  call->respond = [metrics = options_.metrics, call_ptr = call.get(), v2,
                   started = StopwatchMicros(),
                   respond = std::move(respond_unmeasured)](HttpResponse r, ErrorCode code) {
    if (metrics != nullptr) {
      metrics->Observe(v2 ? "sesv2" : "ses",
                       call_ptr->action.empty() ? std::string_view("unknown")
                                                : std::string_view(call_ptr->action),
                       code, StopwatchMicros() - started);
    }
    respond(std::move(r));
  };
  if (options_.authenticator != nullptr) {
    if (Status s = options_.authenticator->Authenticate(request, "ses", &call->context); !s.ok()) {
      return v2 ? RefuseV2Call(call, s) : RefuseQueryCall(call, s);
    }
  }
  if (v2) return HandleV2Call(call, request);
  auto fields = ParseForm(request.Query());
  if (fields.ok() && request.method == "POST" && !request.body.empty()) {
    auto body = ParseForm(request.body);
    if (!body.ok())
      fields = body.status();
    else
      fields->insert(fields->end(), body->begin(), body->end());
  }
  HandleQueryCall(call, fields);
}

void SesFrontend::HandleVerifyLink(const HttpRequest& request,
                                   std::function<void(HttpResponse)> respond) {
  std::string token;
  if (auto fields = ParseForm(request.Query()); fields.ok()) {
    for (const auto& [name, value] : *fields) {
      if (name == "token") token = value;
    }
  }
  email_.ConfirmVerification(token, [respond = std::move(respond)](Status s) {
    HttpResponse r;
    r.content_type = "text/html; charset=utf-8";
    if (s.ok()) {
      r.body =
          "<!doctype html><title>Address verified</title><p>Your email address is verified: "
          "it can now send email through postbox.</p>\n";
    } else if (s.code() == ErrorCode::kNotFound) {
      r.status = 404;
      r.body =
          "<!doctype html><title>Link not valid</title><p>This verification link is not "
          "valid (any more).</p>\n";
    } else {
      r.status = 503;
      r.body =
          "<!doctype html><title>Try again</title><p>The verification could not be stored; "
          "please try the link again.</p>\n";
    }
    respond(std::move(r));
  });
}

}  // namespace postbox::wire::ses
