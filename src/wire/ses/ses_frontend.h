// SesFrontend: the SES API over HTTP — v1 (query protocol: form-encoded requests, XML answers,
// namespace 2010-12-01) and v2 (rest-json under /v2/email/) — plus the page that an identity
// verification link opens (GET /ses/verify?token=...). Both APIs share one EmailService, so
// an identity verified through one is verified for the other.
// Thread-safety: Handle() may be called from any number of threads at once.
#pragma once

#include <functional>
#include <string>

#include "core/email/email_service.h"
#include "wire/auth/authenticator.h"
#include "wire/common/http_message.h"
#include "wire/metrics/request_metrics.h"

namespace postbox::wire::ses {

struct SesOptions {
  std::string default_region = "us-east-1";
  std::string default_account = "000000000000";
  RequestMetrics* metrics = nullptr;  // counts every answer, if given
  std::string public_url;             // the verification link's base; empty: from Host
  // SigV4 mode: every API request must be signed with a configured key (the verification
  // link is not an API request); null: development mode.
  const auth::Authenticator* authenticator = nullptr;
};

class SesFrontend {
 public:
  SesFrontend(core::EmailService& email, SesOptions options);

  // Whether a request is for SES: under /v2/email/ or /ses/verify, signed for the "ses"
  // service, or naming SES v1's API version.
  static bool IsSesRequest(const HttpRequest& request);

  // `respond` is called exactly once, possibly on another thread.
  void Handle(const HttpRequest& request, std::function<void(HttpResponse)> respond);

 private:
  void HandleQuery(const HttpRequest& request, std::function<void(HttpResponse)> respond);
  void HandleV2(const HttpRequest& request, std::function<void(HttpResponse)> respond);
  void HandleVerifyLink(const HttpRequest& request, std::function<void(HttpResponse)> respond);

  core::EmailService& email_;
  SesOptions options_;
};

}  // namespace postbox::wire::ses
