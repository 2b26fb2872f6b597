// SqsFrontend: the SQS API over HTTP, in both the JSON 1.0 and the query protocol.
// It decodes a request into a Call, runs the action handler, and encodes the reply in the
// protocol the client spoke. It never blocks: handlers finish through callbacks.
// Thread-safety: Handle() may be called from any number of threads at once.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/queue/move_tasks.h"
#include "core/queue/queue_service.h"
#include "wire/auth/authenticator.h"
#include "wire/common/http_message.h"
#include "wire/metrics/request_metrics.h"
#include "wire/sqs/sqs_call.h"

namespace postbox::wire::sqs {

struct FrontendOptions {
  std::string default_region = "us-east-1";
  std::string default_account = "000000000000";
  // SendMessage(Batch), ReceiveMessage and DeleteMessage(Batch) without a JSON tree, in both
  // protocols (message_fast_path.h). Off only in tests that compare them with the general path.
  bool fast_paths = true;
  RequestMetrics* metrics = nullptr;  // counts every answer, if given
  // SigV4 mode: every request must be signed with a configured key; null: development mode.
  const auth::Authenticator* authenticator = nullptr;
};

class SqsFrontend {
 public:
  SqsFrontend(core::QueueService& service, core::MessageMoveTasks& move_tasks, Runtime runtime,
              FrontendOptions options);

  // `respond` is called exactly once, possibly on another thread.
  void Handle(const HttpRequest& request, std::function<void(HttpResponse)> respond);

  // The call for a request, with its context (request id, region, account, host, path) but
  // not yet its action or input.
  std::shared_ptr<Call> NewCall(const HttpRequest& request);

 private:
  core::QueueService& service_;
  core::MessageMoveTasks& move_tasks_;
  Runtime runtime_;
  FrontendOptions options_;
};

}  // namespace postbox::wire::sqs
