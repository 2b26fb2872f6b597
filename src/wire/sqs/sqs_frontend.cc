#include "wire/sqs/sqs_frontend.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <iterator>
#include <unordered_map>

#include "base/clock.h"
#include "base/encoding.h"
#include "wire/common/form.h"
#include "wire/common/json_reader.h"
#include "wire/sqs/json_fast_path.h"
#include "wire/sqs/query_fast_path.h"
#include "wire/sqs/sqs_protocol.h"

namespace postbox::wire::sqs {
namespace {

using nlohmann::json;

const std::unordered_map<std::string, Handler>& Handlers() {
  static const std::unordered_map<std::string, Handler> handlers = {
      {"CreateQueue", &CreateQueue},
      {"GetQueueUrl", &GetQueueUrl},
      {"ListQueues", &ListQueues},
      {"DeleteQueue", &DeleteQueue},
      {"GetQueueAttributes", &GetQueueAttributes},
      {"SetQueueAttributes", &SetQueueAttributes},
      {"PurgeQueue", &PurgeQueue},
      {"TagQueue", &TagQueue},
      {"UntagQueue", &UntagQueue},
      {"ListQueueTags", &ListQueueTags},
      {"ListDeadLetterSourceQueues", &ListDeadLetterSourceQueues},
      {"AddPermission", &AddPermission},
      {"RemovePermission", &RemovePermission},
      {"SendMessage", &SendMessage},
      {"SendMessageBatch", &SendMessageBatch},
      {"ReceiveMessage", &ReceiveMessage},
      {"DeleteMessage", &DeleteMessage},
      {"DeleteMessageBatch", &DeleteMessageBatch},
      {"ChangeMessageVisibility", &ChangeMessageVisibility},
      {"ChangeMessageVisibilityBatch", &ChangeMessageVisibilityBatch},
      {"StartMessageMoveTask", &StartMessageMoveTask},
      {"ListMessageMoveTasks", &ListMessageMoveTasks},
      {"CancelMessageMoveTask", &CancelMessageMoveTask},
  };
  return handlers;
}

// The error answer. Bugs are logged for the operator; storage trouble is not logged per
// request (the engine logs its cause once, and /metrics counts the answers).
HttpResponse Failure(const Call& call, Protocol protocol, const Status& s) {
  if (s.code() == ErrorCode::kInternal) {
    spdlog::error("event=request_failed request_id={} action={} code={} message=\"{}\"",
                  call.context.request_id, call.action, ErrorCodeName(s.code()), s.message());
  }
  return ErrorResponse(protocol, s, call.context.request_id);
}

}  // namespace

SqsFrontend::SqsFrontend(core::QueueService& service, core::MessageMoveTasks& move_tasks,
                         Runtime runtime, FrontendOptions options)
    : service_(service),
      move_tasks_(move_tasks),
      runtime_(std::move(runtime)),
      options_(std::move(options)) {}

std::shared_ptr<Call> SqsFrontend::NewCall(const HttpRequest& request) {
  auto call = std::make_shared<Call>();
  call->service = &service_;
  call->move_tasks = &move_tasks_;
  call->runtime = &runtime_;
  call->context.request_id = NewUuid();
  call->context.region = options_.default_region;
  call->context.account = options_.default_account;
  call->context.host = request.Header("host");
  if (call->context.host.empty()) call->context.host = "localhost";
  call->context.scheme = request.Scheme();
  call->context.trace_header = request.Header("x-amzn-trace-id");
  call->path = std::string(request.Path());
  ParseCredentialScope(request, &call->context);
  return call;
}

void SqsFrontend::Handle(const HttpRequest& request,
                         std::function<void(HttpResponse)> respond_unmeasured) {
  std::shared_ptr<Call> call = NewCall(request);
  // Every answer is counted by action and outcome, with the time it took.
  auto respond = [metrics = options_.metrics, call, started = StopwatchMicros(),
                  respond = std::move(respond_unmeasured)](HttpResponse r, ErrorCode code) {
    if (metrics != nullptr) {
      const bool known = Handlers().count(call->action) > 0;
      metrics->Observe("sqs", known ? std::string_view(call->action) : "unknown", code,
                       StopwatchMicros() - started);
    }
    respond(std::move(r));
  };

  const std::string_view target = request.Header("x-amz-target");
  Protocol protocol = target.empty() ? Protocol::kQuery : Protocol::kJson;
  const std::string request_id = call->context.request_id;
  auto fail = [&](Status s) { respond(ErrorResponse(protocol, s, request_id), s.code()); };
  if (options_.authenticator != nullptr) {
    if (Status s = options_.authenticator->Authenticate(request, "sqs", &call->context); !s.ok()) {
      return fail(s);
    }
  }

  if (protocol == Protocol::kJson) {
    constexpr std::string_view kPrefix = "AmazonSQS.";
    if (target.rfind(kPrefix, 0) != 0) {
      return fail(
          Status(ErrorCode::kInvalidAction, "Unknown operation " + std::string(target) + "."));
    }
    call->action = target.substr(kPrefix.size());
    const std::string_view content_type = request.Header("content-type");
    if (content_type.rfind("application/x-amz-json-1.0", 0) != 0) {
      return fail(Status(ErrorCode::kInvalidContentType,
                         "The content type " + std::string(content_type) +
                             " is not supported; use application/x-amz-json-1.0."));
    }
    if (options_.fast_paths &&
        TryJsonFastPath(call, request.body, [call, respond](Result<std::string> result) {
          respond(result.ok() ? JsonSuccessResponse(std::move(*result), call->context.request_id)
                              : Failure(*call, Protocol::kJson, result.status()),
                  result.status().code());
        })) {
      return;
    }
    auto parsed =
        request.body.empty() ? std::optional<json>(json::object()) : ParseJson(request.body);
    if (parsed) call->input = std::move(*parsed);
    if (!parsed || !call->input.is_object()) {
      return fail(Status(ErrorCode::kMalformedRequest, "The request body is not a JSON object."));
    }
  } else {
    // Query protocol: fields from the URL query and, for POST, the form body.
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
      fields->insert(fields->end(), std::make_move_iterator(body->begin()),
                     std::make_move_iterator(body->end()));
    }
    for (const auto& [key, value] : *fields) {
      if (key == "Action") call->action = value;
    }
    // "/<account id>/<name>": a queue's URL (a proxy's prefix such as "/sqs/v1" is not one).
    const std::string_view path = std::string_view(call->path).substr(0, call->path.find('?'));
    const size_t second = path.size() > 1 ? path.find('/', 1) : std::string_view::npos;
    const bool at_queue_url = second != std::string_view::npos && second > 1 &&
                              second + 1 < path.size() &&
                              std::all_of(path.begin() + 1, path.begin() + long(second),
                                          [](char c) { return std::isdigit(uint8_t(c)) != 0; });
    if (fields->empty() && request.method == "GET" && at_queue_url) {
      // A bare GET of a queue URL names no operation: AWS answers 404 UnknownOperationException.
      HttpResponse unknown;
      unknown.status = 404;
      unknown.headers.emplace_back("x-amzn-RequestId", request_id);
      unknown.content_type = "text/xml";
      unknown.body = "<UnknownOperationException/>";
      return respond(std::move(unknown), ErrorCode::kInvalidAction);
    }
    // Actions that name no queue are refused at a queue's URL, as AWS refuses them.
    if (at_queue_url && (call->action == "CreateQueue" || call->action == "ListQueues")) {
      return fail(Status(ErrorCode::kInvalidAction,
                         "The action " + call->action + " is not valid for this endpoint."));
    }
    if (call->action.empty()) {
      return fail(
          Status(ErrorCode::kMissingParameter, "The request must contain the parameter Action."));
    }
    if (options_.fast_paths &&
        TryQueryFastPath(call, *fields, [call, respond](Result<std::string> result) {
          respond(result.ok() ? XmlSuccessResponse(std::move(*result), call->context.request_id)
                              : Failure(*call, Protocol::kQuery, result.status()),
                  result.status().code());
        })) {
      return;
    }
    call->input = QueryToInput(std::move(*fields));
  }

  auto handler = Handlers().find(call->action);
  if (handler == Handlers().end()) {
    return fail(Status(ErrorCode::kInvalidAction,
                       "The action " + call->action + " is not valid for this endpoint."));
  }
  handler->second(*call, [call, protocol, respond = std::move(respond)](Result<json> result) {
    if (!result.ok()) {
      return respond(Failure(*call, protocol, result.status()), result.status().code());
    }
    respond(SuccessResponse(protocol, call->action, *result, call->context.request_id),
            ErrorCode::kOk);
  });
}

}  // namespace postbox::wire::sqs
