// Internal to the SES front-end: who is calling, and the answer helpers both SES APIs use.
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "core/email/email_service.h"
#include "wire/common/form.h"
#include "wire/common/http_message.h"
#include "wire/common/request_context.h"
#include "wire/metrics/request_metrics.h"

namespace postbox::wire::ses {

inline constexpr char kSesV1Namespace[] = "http://ses.amazonaws.com/doc/2010-12-01/";

struct SesCall {
  RequestContext context;
  std::string base_url;  // where verification links point
  std::string action;    // for metrics: the operation's name
  core::EmailService* email = nullptr;
  // Answers and counts the answer; call exactly once.
  std::function<void(HttpResponse, ErrorCode)> respond;
};

// Whether the caller may perform the call's action ("ses:SendEmail"). SES checks its
// actions against the account's every resource ("arn:aws:ses:<region>:<account>:*"): a policy
// must grant them with Resource "*" (or that pattern), not per identity.
Status CheckSesAccess(const SesCall& call);

// An SES error answer's code (v1: the Error's Code; v2: x-amzn-ErrorType) and HTTP status.
struct SesError {
  const char* code;
  int status;
};
// What an SES API answers for `s`: `api_codes` gives the API's own answers (nullopt for codes
// it has none for); storage trouble is ServiceUnavailable (503) and anything else
// InternalFailure (500) in both APIs. An internal fault is logged with the request id.
SesError ErrorFor(const SesCall& call, const Status& s,
                  std::optional<SesError> (*api_codes)(ErrorCode));

// The string at `path` in a decoded request (nested objects), or "" when absent.
std::string TextAt(const nlohmann::json& input, std::initializer_list<const char*> path);
// The strings of the list at `path`, or none when absent.
std::vector<std::string> StringsAt(const nlohmann::json& input,
                                   std::initializer_list<const char*> path);

// The SES v1 query API (ses_query_actions.cc): `fields` are the decoded form fields.
void HandleQueryCall(const std::shared_ptr<SesCall>& call, const Result<FormFields>& fields);
// The SES v2 rest-json API (sesv2_actions.cc).
void HandleV2Call(const std::shared_ptr<SesCall>& call, const HttpRequest& request);
// A request refused before its action is known (authentication), in the API's error shape.
void RefuseQueryCall(const std::shared_ptr<SesCall>& call, const Status& status);
void RefuseV2Call(const std::shared_ptr<SesCall>& call, const Status& status);

}  // namespace postbox::wire::ses
