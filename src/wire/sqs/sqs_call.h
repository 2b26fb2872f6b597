// Call: one decoded SQS request on its way through an action handler, plus typed readers for
// its JSON-shaped input (query-protocol values arrive as strings, JSON ones as numbers, so
// the readers accept both).
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>
#include <vector>

#include "base/status.h"
#include "core/queue/move_tasks.h"
#include "core/queue/queue_service.h"
#include "wire/common/request_context.h"

namespace postbox::wire::sqs {

// How the front-end lets handlers wait without blocking an I/O thread.
struct Runtime {
  // Runs `fn` on an I/O thread soon.
  std::function<void(std::function<void()>)> post;
  // Runs `fn` on an I/O thread after `millis`.
  std::function<void(int64_t millis, std::function<void()>)> run_after;
};

using Reply = std::function<void(Result<nlohmann::json>)>;

struct Call {
  std::string action;
  RequestContext context;
  nlohmann::json input;
  std::string path;  // request path, names the queue when the query protocol posts to it
  core::QueueService* service = nullptr;
  core::MessageMoveTasks* move_tasks = nullptr;
  Runtime* runtime = nullptr;

  std::string QueueUrl(const core::QueueId& id) const;
  // The queue named by QueueUrl (or the request path), which must exist.
  Result<core::QueuePtr> Queue() const;
  // The same for a QueueUrl read elsewhere (empty: the request path).
  Result<core::QueuePtr> QueueAt(std::string url) const;
  // The queue `id`, once the caller may perform this call's action on it (its key's policy
  // and the queue's Policy: access.h); every action on a queue finds it through here.
  Result<core::QueuePtr> AccessibleQueue(const core::QueueId& id) const;
  // The action as IAM names it: "sqs:SendMessage" (also for SendMessageBatch).
  std::string IamAction() const;
  // Whether the caller may perform this call's action on `resource` (an ARN).
  Status CheckAccessTo(std::string_view resource,
                       const core::policy::Document* resource_policy = nullptr) const;
  // The SenderId of messages this call sends: the access key, else the account.
  std::string SenderId() const {
    return context.access_key_id.empty() ? context.account : context.access_key_id;
  }

  Result<std::string> RequiredString(const char* name) const;
  std::string OptionalString(const char* name) const;
  // nullopt when absent; kInvalidParameterValue when not an integer.
  Result<std::optional<int>> OptionalInt(const char* name) const;
  std::vector<std::string> StringList(const char* name) const;
  core::AttributeMap StringMap(const char* name) const;
};

using Handler = void (*)(Call& call, Reply reply);

// Queue actions (queue_actions.cc).
void CreateQueue(Call& call, Reply reply);
void GetQueueUrl(Call& call, Reply reply);
void ListQueues(Call& call, Reply reply);
void DeleteQueue(Call& call, Reply reply);
void GetQueueAttributes(Call& call, Reply reply);
void SetQueueAttributes(Call& call, Reply reply);
void PurgeQueue(Call& call, Reply reply);
void TagQueue(Call& call, Reply reply);
void UntagQueue(Call& call, Reply reply);
void ListQueueTags(Call& call, Reply reply);
void ListDeadLetterSourceQueues(Call& call, Reply reply);
void AddPermission(Call& call, Reply reply);
void RemovePermission(Call& call, Reply reply);

// Message actions (message_actions.cc, receive_action.cc).
void SendMessage(Call& call, Reply reply);
void SendMessageBatch(Call& call, Reply reply);
void ReceiveMessage(Call& call, Reply reply);
void DeleteMessage(Call& call, Reply reply);
void DeleteMessageBatch(Call& call, Reply reply);
void ChangeMessageVisibility(Call& call, Reply reply);
void ChangeMessageVisibilityBatch(Call& call, Reply reply);

// Dead-letter queue redrive (move_task_actions.cc).
void StartMessageMoveTask(Call& call, Reply reply);
void ListMessageMoveTasks(Call& call, Reply reply);
void CancelMessageMoveTask(Call& call, Reply reply);

// Resolves the call's queue into `var`, or replies with the error and returns.
#define POSTBOX_QUEUE_OR_REPLY(var, call, reply)                 \
  auto var##_result = (call).Queue();                            \
  if (!var##_result.ok()) return (reply)(var##_result.status()); \
  core::QueuePtr var = *var##_result

// The string member `name` of a JSON-shaped object: empty when absent or null; a
// SerializationException (kMalformedRequest) when it has another type, as AWS answers a JSON
// value of the wrong type.
Result<std::string> StringMember(const nlohmann::json& object, const char* name);

// The first entry result that is a transient failure (storage could not write, or throttled
// the write), if any: a batch that meets one is answered with it as the request's error, never
// as a 200, so that SDKs retry the request as they retry any 5xx or throttling error.
template <typename Results>
const Status* TransientFailureIn(const Results& results) {
  for (const auto& r : results) {
    const Status& s = [&]() -> const Status& {
      if constexpr (std::is_same_v<std::decay_t<decltype(r)>, Status>) {
        return r;
      } else {
        return r.status();
      }
    }();
    if (IsTransient(s.code())) return &s;
  }
  return nullptr;
}

// Checks the batch rules shared by all *Batch actions; returns the entries, moved out of the
// call's input (a batch's bodies are not copied: the handler reads them once).
Result<nlohmann::json> BatchEntries(Call& call, const char* entry_name);

// AWS's batch limits: at most 10 entries, ids of 1-80 letters, digits, '-' and '_', and a
// whole SendMessageBatch no larger than one message may be (SQS quotas, 2025).
inline constexpr size_t kMaxBatchEntries = 10;
inline constexpr size_t kMaxBatchBytes = 1'048'576;
bool IsValidBatchEntryId(std::string_view id);

}  // namespace postbox::wire::sqs
