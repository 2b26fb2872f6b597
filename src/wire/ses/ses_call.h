// Internal to the SES front-end: who is calling, and the answer helpers both SES APIs use.
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
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

// The string at `path` in a decoded request (nested objects), or "" when absent.
std::string TextAt(const nlohmann::json& input, std::initializer_list<const char*> path);
// The strings of the list at `path`, or none when absent.
std::vector<std::string> StringsAt(const nlohmann::json& input,
                                   std::initializer_list<const char*> path);

// The SES v1 query API (ses_query_actions.cc): `fields` are the decoded form fields.
void HandleQueryCall(const std::shared_ptr<SesCall>& call, const Result<FormFields>& fields);
// The SES v2 rest-json API (sesv2_actions.cc).
void HandleV2Call(const std::shared_ptr<SesCall>& call, const HttpRequest& request);

}  // namespace postbox::wire::ses
