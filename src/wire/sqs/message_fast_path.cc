#include "wire/sqs/message_fast_path.h"

#include "core/queue/message_rules.h"
#include "wire/sqs/long_poll.h"

namespace postbox::wire::sqs {
namespace {

// A failed queue lookup is declined (the general path answers it), except an access
// refusal: answered here, so that it is counted once. Whether the request was taken.
bool TakeRefusal(const Status& lookup, const TextReply& reply) {
  if (lookup.code() != ErrorCode::kAccessDenied) return false;
  reply(lookup);
  return true;
}

}  // namespace

// A batch has at most ten entries (the readers check): comparing each pair costs less than a
// set.
bool DistinctValidIds(const std::vector<std::string>& ids) {
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!IsValidBatchEntryId(ids[i])) return false;
    for (size_t j = 0; j < i; ++j) {
      if (ids[j] == ids[i]) return false;
    }
  }
  return true;
}

core::MessageAttributes SelectedAttributes(const core::Message& m,
                                           const ReceiveSelection& selection) {
  core::MessageAttributes selected;
  for (const auto& [name, value] : m.attributes) {
    if (selection.WantsUser(name)) selected[name] = value;
  }
  return selected;
}

bool RunSend(const std::shared_ptr<Call>& call, FastSend request, const FastAnswerWriter& writer,
             const TextReply& reply) {
  if (request.messages.empty()) return false;
  if (request.batch) {
    if (request.ids.size() != request.messages.size() || !DistinctValidIds(request.ids)) {
      return false;
    }
    size_t total = 0;
    for (const auto& m : request.messages) total += core::MessageSize(m);
    if (total > kMaxBatchBytes) return false;
  }
  auto queue = call->QueueAt(request.queue_url);
  if (!queue.ok()) return TakeRefusal(queue.status(), reply);
  if (request.batch && !core::CheckFifoBatch((*queue)->config(), request.messages).ok()) {
    return false;
  }
  if (!request.batch) {
    request.messages.front().trace_header = call->context.trace_header;  // SendMessage only
  }
  call->service->SendMessages(
      *queue, std::move(request.messages), call->SenderId(),
      [call, reply, writer, batch = request.batch,
       ids = std::move(request.ids)](std::vector<Result<core::SentMessage>> results) {
        if (!batch) {
          if (!results.at(0).ok()) return reply(results[0].status());
          return reply(writer.sent(*call, *results[0]));
        }
        // Storage could not take the batch: the request fails (503), not its entries.
        if (const Status* fault = TransientFailureIn(results)) return reply(*fault);
        reply(writer.send_batch(*call, ids, results));
      });
  return true;
}

bool RunReceive(const std::shared_ptr<Call>& call, FastReceive request,
                const FastAnswerWriter& writer, const TextReply& reply) {
  auto queue = call->QueueAt(request.queue_url);
  if (!queue.ok()) return TakeRefusal(queue.status(), reply);
  request.options.max_messages = request.max_messages.value_or(1);
  const int wait_seconds =
      request.wait_seconds.value_or((*queue)->config().receive_message_wait_time_seconds);
  const int64_t deadline = call->service->clock().MonotonicMillis() + int64_t(wait_seconds) * 1000;
  ReceiveWithWait(call->service, call->runtime, *queue, std::move(request.options), deadline,
                  [call, reply, writer, selection = std::move(request.selection)](
                      Result<std::vector<core::ReceivedMessage>> messages) {
                    if (!messages.ok()) return reply(messages.status());
                    reply(writer.received(*call, *messages, selection));
                  });
  return true;
}

bool RunDelete(const std::shared_ptr<Call>& call, FastDelete request,
               const FastAnswerWriter& writer, const TextReply& reply) {
  if (request.batch ? request.ids.empty() || request.ids.size() != request.handles.size() ||
                          !DistinctValidIds(request.ids)
                    : request.handles.size() != 1) {
    return false;
  }
  auto queue = call->QueueAt(request.queue_url);
  if (!queue.ok()) return TakeRefusal(queue.status(), reply);
  if (!request.batch) {
    call->service->DeleteMessage(*queue, request.handles.front(), [call, reply, writer](Status s) {
      reply(s.ok() ? Result<std::string>(writer.deleted(*call)) : Result<std::string>(s));
    });
    return true;
  }
  call->service->DeleteMessages(
      *queue, request.handles,
      [call, reply, writer, ids = std::move(request.ids)](Result<std::vector<Status>> results) {
        if (!results.ok()) return reply(results.status());
        reply(writer.delete_batch(*call, ids, *results));
      });
  return true;
}

}  // namespace postbox::wire::sqs
