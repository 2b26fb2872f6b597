// StartMessageMoveTask, ListMessageMoveTasks, CancelMessageMoveTask: dead-letter queue redrive.
#include <initializer_list>
#include <string>

#include "core/queue/move_tasks.h"
#include "wire/common/access.h"
#include "wire/sqs/sqs_call.h"

namespace postbox::wire::sqs {

using nlohmann::json;

namespace {

// Another account's queue as the source or destination (until queue policies can allow it).
Status CheckQueueArns(const Call& call, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (NamesAnotherAccount(call.context, call.OptionalString(name))) {
      return Status(ErrorCode::kAccessDenied, std::string("Access to the queue in ") + name +
                                                  " is denied: it belongs to another account.");
    }
  }
  return Status::Ok();
}

// The caller may perform `action` on the queue `arn` (its Policy included). An empty or
// malformed ARN is left for the core to answer.
Status CheckQueueAccess(const Call& call, const std::string& arn, const char* action) {
  if (arn.empty() || !call.context.authenticated) return Status::Ok();
  const auto id = core::QueueId::FromArn(arn);
  if (!id) return Status::Ok();
  return CheckAccess(call.context, action, id->Arn(), call.service->AccessPolicyOf(*id).get());
}

}  // namespace

void StartMessageMoveTask(Call& call, Reply reply) {
  auto rate = call.OptionalInt("MaxNumberOfMessagesPerSecond");
  if (!rate.ok()) return reply(rate.status());
  if (Status s = CheckQueueArns(call, {"SourceArn", "DestinationArn"}); !s.ok()) return reply(s);
  if (Status s =
          CheckQueueAccess(call, call.OptionalString("SourceArn"), "sqs:StartMessageMoveTask");
      !s.ok()) {
    return reply(s);
  }
  // Moving messages into a queue is sending to it, as AWS checks it.
  if (Status s = CheckQueueAccess(call, call.OptionalString("DestinationArn"), "sqs:SendMessage");
      !s.ok()) {
    return reply(s);
  }
  core::MessageMoveTasks::StartRequest request{call.OptionalString("SourceArn"),
                                               call.OptionalString("DestinationArn"), *rate};
  call.move_tasks->Start(request, [reply = std::move(reply)](Result<std::string> handle) {
    if (!handle.ok()) return reply(handle.status());
    reply(json{{"TaskHandle", *handle}});
  });
}

void ListMessageMoveTasks(Call& call, Reply reply) {
  auto max_results = call.OptionalInt("MaxResults");
  if (!max_results.ok()) return reply(max_results.status());
  if (Status s = CheckQueueArns(call, {"SourceArn"}); !s.ok()) return reply(s);
  if (Status s =
          CheckQueueAccess(call, call.OptionalString("SourceArn"), "sqs:ListMessageMoveTasks");
      !s.ok()) {
    return reply(s);
  }
  auto tasks = call.move_tasks->List(call.OptionalString("SourceArn"), *max_results);
  if (!tasks.ok()) return reply(tasks.status());
  json results = json::array();
  for (const auto& t : *tasks) {
    // Members appear only where AWS sends them: the handle while running, the destination
    // and rate when given at start, the reason when failed.
    json entry = json::object();
    if (!t.task_handle.empty()) entry["TaskHandle"] = t.task_handle;
    entry["Status"] = t.status;
    entry["SourceArn"] = t.source_arn;
    if (!t.destination_arn.empty()) entry["DestinationArn"] = t.destination_arn;
    if (t.max_per_second > 0) entry["MaxNumberOfMessagesPerSecond"] = t.max_per_second;
    entry["ApproximateNumberOfMessagesMoved"] = t.moved;
    entry["ApproximateNumberOfMessagesToMove"] = t.to_move;
    if (!t.failure_reason.empty()) entry["FailureReason"] = t.failure_reason;
    entry["StartedTimestamp"] = t.started_ms;
    results.push_back(std::move(entry));
  }
  reply(json{{"Results", std::move(results)}});
}

void CancelMessageMoveTask(Call& call, Reply reply) {
  // The handle names the task's source queue: the caller must be let in to that queue.
  // (A handle that does not decode is answered by the core.)
  if (auto decoded = core::DecodeTaskHandle(call.OptionalString("TaskHandle"))) {
    if (NamesAnotherAccount(call.context, decoded->second)) {
      return reply(Status(ErrorCode::kAccessDenied,
                          "Access to the queue of this task is denied: it belongs to another "
                          "account."));
    }
    if (Status s = CheckQueueAccess(call, decoded->second, "sqs:CancelMessageMoveTask"); !s.ok()) {
      return reply(s);
    }
  }
  call.move_tasks->Cancel(call.OptionalString("TaskHandle"),
                          [reply = std::move(reply)](Result<int64_t> moved) {
                            if (!moved.ok()) return reply(moved.status());
                            reply(json{{"ApproximateNumberOfMessagesMoved", *moved}});
                          });
}

}  // namespace postbox::wire::sqs
