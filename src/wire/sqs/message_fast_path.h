// The part of the SQS fast paths that both protocols share: the five calls that carry messages
// (SendMessage(Batch), ReceiveMessage, DeleteMessage(Batch)) run from plain request structs,
// with their answers written as text by the protocol's writer.
//
// The general path turns every request into a nlohmann::json tree, reads it through Call and
// builds the answer as another tree before writing it out; for batches of 1 KiB messages
// those trees cost about a fifth of the server's CPU in the JSON protocol and more in the
// query protocol. A fast path reads the request into these structs and writes the answer
// directly: json_fast_path.cc from the simdjson document, query_fast_path.cc from the form
// fields.
//
// A reader takes only requests in the plain shapes the SDKs send, and only when nothing in
// them is an error the request as a whole would answer (an empty batch, a repeated entry id,
// an out-of-range parameter, a malformed attribute). Everything else it declines, before any
// side effect, and the general path answers it, so AWS's errors are worded in one place. The
// Run* functions below decline the last such cases (ids, batch size, the queue lookup, FIFO
// batch rules) the same way. Only an access refusal of the queue lookup is answered here: the
// general path would meet the same answer, and count the denial twice. Errors of single
// messages (an invalid body, too large) come from the core, and both paths write them the same
// way. The differential tests (tests/wire/*_fast_path_test.cc) run request tables through both
// paths and require byte-identical answers.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "core/queue/queue_service.h"
#include "wire/sqs/receive_selection.h"
#include "wire/sqs/sqs_call.h"

namespace postbox::wire::sqs {

// The answer: the body of a success, or the status of a request-level failure.
using TextReply = std::function<void(Result<std::string>)>;

// A SendMessage (one message, no ids) or SendMessageBatch (ids[i] names messages[i]).
struct FastSend {
  std::string queue_url;  // empty: the request path names the queue
  bool batch = false;
  std::vector<core::NewMessage> messages;
  std::vector<std::string> ids;
};

struct FastReceive {
  std::string queue_url;
  std::optional<int> max_messages;  // each already within its range
  std::optional<int> wait_seconds;
  core::ReceiveOptions options;  // visibility timeout and attempt id; max set by RunReceive
  ReceiveSelection selection;
};

// A DeleteMessage (handles[0], no ids) or DeleteMessageBatch.
struct FastDelete {
  std::string queue_url;
  bool batch = false;
  std::vector<std::string> ids;
  std::vector<std::string> handles;
};

// How one protocol writes the answers of a taken request, on the thread that completes the
// call; `call` gives the request id and action. Copied into the call's callbacks.
struct FastAnswerWriter {
  std::string (*sent)(const Call& call, const core::SentMessage& sent);
  std::string (*send_batch)(const Call& call, const std::vector<std::string>& ids,
                            const std::vector<Result<core::SentMessage>>& results);
  std::string (*received)(const Call& call, const std::vector<core::ReceivedMessage>& messages,
                          const ReceiveSelection& selection);
  std::string (*deleted)(const Call& call);
  std::string (*delete_batch)(const Call& call, const std::vector<std::string>& ids,
                              const std::vector<Status>& results);
};

// Each returns whether the request was taken: `reply` will then be called once (possibly on
// another thread). False when it is left to the general path; nothing has happened then.
bool RunSend(const std::shared_ptr<Call>& call, FastSend request, const FastAnswerWriter& writer,
             const TextReply& reply);
bool RunReceive(const std::shared_ptr<Call>& call, FastReceive request,
                const FastAnswerWriter& writer, const TextReply& reply);
bool RunDelete(const std::shared_ptr<Call>& call, FastDelete request,
               const FastAnswerWriter& writer, const TextReply& reply);

// Whether entry ids are each valid and all distinct (the general path words both errors).
bool DistinctValidIds(const std::vector<std::string>& ids);

// Calls `emit(name, value)` (which must copy `value`, not keep it) for each system attribute of a
// received message that `selection` asks for, in the order the general path writes them (its tree
// sorts names bytewise). Numbers are formatted only when asked for: most receives ask for no system
// attribute.
template <typename Emit>
void ForEachSelectedSystemAttribute(const core::Message& m, const ReceiveSelection& selection,
                                    Emit emit) {
  auto text = [&](const char* name, std::string_view value) {
    if (selection.WantsSystem(name)) emit(name, value);
  };
  auto number = [&](const char* name, int64_t value) {
    if (selection.WantsSystem(name)) emit(name, std::string_view(std::to_string(value)));
  };
  const bool fifo = !m.sequence_number.empty();
  if (auto it = m.system_attributes.find("AWSTraceHeader"); it != m.system_attributes.end()) {
    text("AWSTraceHeader", it->second.string_value);
  }
  number("ApproximateFirstReceiveTimestamp", m.state.first_receive_ms);
  number("ApproximateReceiveCount", m.state.receive_count);
  if (!m.dead_letter_source_arn.empty()) text("DeadLetterQueueSourceArn", m.dead_letter_source_arn);
  if (fifo) text("MessageDeduplicationId", m.message_deduplication_id);
  if (!m.message_group_id.empty()) text("MessageGroupId", m.message_group_id);
  text("SenderId", m.sender_id);
  number("SentTimestamp", m.sent_ms);
  if (fifo) text("SequenceNumber", m.sequence_number);
}

// The user attributes of a received message that `selection` asks for.
core::MessageAttributes SelectedAttributes(const core::Message& m,
                                           const ReceiveSelection& selection);

}  // namespace postbox::wire::sqs
