// ReceiveMessage: its parameters, and its output as the JSON-protocol tree (which the query
// protocol turns into XML). Long polling is in long_poll.cc.
#include "base/encoding.h"
#include "core/queue/message_rules.h"
#include "wire/sqs/long_poll.h"
#include "wire/sqs/receive_selection.h"
#include "wire/sqs/sqs_call.h"

namespace postbox::wire::sqs {
namespace {

using nlohmann::json;

json MessageToJson(const core::ReceivedMessage& r, const ReceiveSelection& selection) {
  const core::Message& m = *r.message;
  json out = {{"MessageId", m.message_id},
              {"ReceiptHandle", r.receipt_handle},
              {"MD5OfBody", m.md5_of_body},
              {"Body", m.body}};
  json system = json::object();
  auto add = [&](const char* name, const std::string& value) {
    if (selection.WantsSystem(name)) system[name] = value;
  };
  add("SenderId", m.sender_id);
  add("SentTimestamp", std::to_string(m.sent_ms));
  add("ApproximateReceiveCount", std::to_string(m.state.receive_count));
  add("ApproximateFirstReceiveTimestamp", std::to_string(m.state.first_receive_ms));
  auto trace = m.system_attributes.find("AWSTraceHeader");
  if (trace != m.system_attributes.end()) add("AWSTraceHeader", trace->second.string_value);
  if (!m.dead_letter_source_arn.empty()) add("DeadLetterQueueSourceArn", m.dead_letter_source_arn);
  if (!m.message_group_id.empty()) add("MessageGroupId", m.message_group_id);
  if (!m.sequence_number.empty()) {  // FIFO queues only
    add("MessageDeduplicationId", m.message_deduplication_id);
    add("SequenceNumber", m.sequence_number);
  }
  if (!system.empty()) out["Attributes"] = system;

  core::MessageAttributes selected;
  for (const auto& [name, value] : m.attributes) {
    if (selection.WantsUser(name)) selected[name] = value;
  }
  if (!selected.empty()) {
    json attributes = json::object();
    for (const auto& [name, value] : selected) {
      json v = {{"DataType", value.data_type}};
      if (value.is_binary()) {
        v["BinaryValue"] = Base64Encode(value.binary_value);
      } else {
        v["StringValue"] = value.string_value;
      }
      attributes[name] = v;
    }
    // The digest covers exactly the attributes returned: the SDKs recompute it.
    out["MD5OfMessageAttributes"] = core::Md5OfAttributes(selected);
    out["MessageAttributes"] = attributes;
  }
  return out;
}

json ReceiveOutput(const std::vector<core::ReceivedMessage>& messages,
                   const ReceiveSelection& selection) {
  json out = json::object();
  if (messages.empty()) return out;
  json list = json::array();
  for (const auto& m : messages) list.push_back(MessageToJson(m, selection));
  out["Messages"] = std::move(list);
  return out;
}

}  // namespace

void ReceiveMessage(Call& call, Reply reply) {
  POSTBOX_QUEUE_OR_REPLY(queue, call, reply);
  auto max = call.OptionalInt("MaxNumberOfMessages");
  if (!max.ok()) return reply(max.status());
  if (*max && (**max < 1 || **max > kMaxReceiveMessages)) {
    return reply(Status(ErrorCode::kInvalidParameterValue,
                        "Value " + std::to_string(**max) +
                            " for parameter MaxNumberOfMessages is invalid. Reason: Must be "
                            "between 1 and 10, if provided."));
  }
  auto wait = call.OptionalInt("WaitTimeSeconds");
  if (!wait.ok()) return reply(wait.status());
  if (*wait && (**wait < 0 || **wait > kMaxWaitTimeSeconds)) {
    return reply(Status(ErrorCode::kInvalidParameterValue,
                        "Value " + std::to_string(**wait) +
                            " for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and "
                            "<= 20, if provided."));
  }
  auto visibility = call.OptionalInt("VisibilityTimeout");
  if (!visibility.ok()) return reply(visibility.status());
  if (*visibility && (**visibility < 0 || **visibility > kMaxVisibilityTimeout)) {
    return reply(Status(ErrorCode::kInvalidParameterValue,
                        "Value " + std::to_string(**visibility) +
                            " for parameter VisibilityTimeout is invalid. Reason: Must be >= 0 "
                            "and <= 43200, if provided."));
  }
  ReceiveSelection selection;
  selection.system_names = call.StringList("AttributeNames");
  for (auto& name : call.StringList("MessageSystemAttributeNames")) {
    selection.system_names.push_back(std::move(name));
  }
  selection.attribute_names = call.StringList("MessageAttributeNames");

  core::ReceiveOptions options{max->value_or(1), *visibility,
                               call.OptionalString("ReceiveRequestAttemptId")};
  int wait_seconds = wait->value_or(queue->config().receive_message_wait_time_seconds);
  int64_t deadline = call.service->clock().MonotonicMillis() + int64_t(wait_seconds) * 1000;
  ReceiveWithWait(call.service, call.runtime, queue, options, deadline,
                  [selection = std::move(selection),
                   reply = std::move(reply)](Result<std::vector<core::ReceivedMessage>> messages) {
                    if (!messages.ok()) return reply(messages.status());
                    reply(ReceiveOutput(*messages, selection));
                  });
}

}  // namespace postbox::wire::sqs
