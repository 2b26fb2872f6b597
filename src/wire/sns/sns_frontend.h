// SnsFrontend: the SNS API over HTTP (query protocol: form-encoded requests, XML answers).
// It decodes a request into an SnsCall, runs the action handler and writes the reply.
// It never blocks: handlers finish through callbacks. Thread-safety: Handle() may be called
// from any number of threads at once.
#pragma once

#include <functional>
#include <string>

#include "core/push/platform_service.h"
#include "core/sms/sms_service.h"
#include "core/topic/topic_service.h"
#include "wire/auth/authenticator.h"
#include "wire/common/http_message.h"
#include "wire/metrics/request_metrics.h"

namespace postbox::wire::sns {

struct SnsOptions {
  std::string default_region = "us-east-1";
  std::string default_account = "000000000000";
  RequestMetrics* metrics = nullptr;      // counts every answer, if given
  std::string public_url;                 // links' base (server.public_url); empty: from Host
  core::SmsService* sms = nullptr;        // SMS operations; null: UnsupportedOperation
  core::PlatformService* push = nullptr;  // mobile push; null: UnsupportedOperation
  // SigV4 mode: every request must be signed with a configured key; null: development mode.
  const auth::Authenticator* authenticator = nullptr;
};

class SnsFrontend {
 public:
  SnsFrontend(core::TopicService& topics, SnsOptions options);

  // Whether a request is for SNS rather than SQS: signed for the "sns" service, or naming
  // SNS's API version (as SubscribeURL and UnsubscribeURL visits do). JSON requests are SQS's.
  static bool IsSnsRequest(const HttpRequest& request);

  // `respond` is called exactly once, possibly on another thread.
  void Handle(const HttpRequest& request, std::function<void(HttpResponse)> respond);

 private:
  core::TopicService& topics_;
  SnsOptions options_;
};

}  // namespace postbox::wire::sns
