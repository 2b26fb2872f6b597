// SendMessage(Batch), DeleteMessage(Batch), ChangeMessageVisibility(Batch).
#include "base/encoding.h"
#include "core/queue/message_rules.h"
#include "wire/sqs/sqs_call.h"
#include "wire/sqs/sqs_protocol.h"

namespace postbox::wire::sqs {
namespace {

using nlohmann::json;

Result<core::MessageAttributes> ParseAttributes(const json& input, const char* member) {
  core::MessageAttributes out;
  auto it = input.find(member);
  if (it == input.end() || !it->is_object()) return out;
  for (const auto& [name, value] : it->items()) {
    if (!value.is_object()) {
      return Status(ErrorCode::kInvalidParameterValue,
                    "The message attribute '" + name + "' must contain a value.");
    }
    core::AttributeValue v;
    auto data_type = StringMember(value, "DataType");
    if (!data_type.ok()) return data_type.status();
    v.data_type = std::move(*data_type);
    auto text = StringMember(value, v.is_binary() ? "BinaryValue" : "StringValue");
    if (!text.ok()) return text.status();
    const std::string base = v.data_type.substr(0, v.data_type.find('.'));
    if ((base == "String" || base == "Number") && text->empty() && value.contains("BinaryValue")) {
      return Status(
          ErrorCode::kInvalidParameterValue,
          "The message attribute '" + name + "' with type '" + base + "' must use field 'String'.");
    }
    if (v.is_binary()) {
      auto decoded = Base64Decode(*text);
      if (!decoded) {
        return Status(ErrorCode::kInvalidParameterValue,
                      "The message attribute '" + name + "' has an invalid binary value.");
      }
      v.binary_value = std::move(*decoded);
    } else {
      v.string_value = std::move(*text);
    }
    out[name] = std::move(v);
  }
  return out;
}

// Moves the body out of `input`, which the handler reads only once.
Result<core::NewMessage> ParseNewMessage(json& input) {
  core::NewMessage m;
  auto body = input.find("MessageBody");
  if (body != input.end() && body->is_string()) m.body = std::move(body->get_ref<std::string&>());
  auto attributes = ParseAttributes(input, "MessageAttributes");
  if (!attributes.ok()) return attributes.status();
  m.attributes = std::move(*attributes);
  auto system = ParseAttributes(input, "MessageSystemAttributes");
  if (!system.ok()) return system.status();
  m.system_attributes = std::move(*system);
  auto delay = input.find("DelaySeconds");
  if (delay != input.end()) {
    if (delay->is_number_integer()) {
      m.delay_seconds = delay->get<int>();
    } else if (delay->is_string()) {
      try {
        m.delay_seconds = std::stoi(delay->get<std::string>());
      } catch (const std::exception&) {
        return Status(ErrorCode::kInvalidParameterValue,
                      "Value for parameter DelaySeconds is invalid. Reason: not an integer.");
      }
    }
  }
  auto group = StringMember(input, "MessageGroupId");
  if (!group.ok()) return group.status();
  if (input.contains("MessageGroupId")) m.message_group_id = std::move(*group);
  auto deduplication = StringMember(input, "MessageDeduplicationId");
  if (!deduplication.ok()) return deduplication.status();
  m.message_deduplication_id = std::move(*deduplication);
  return m;
}

json SentToJson(const core::SentMessage& sent) {
  json out = {{"MessageId", sent.message_id}, {"MD5OfMessageBody", sent.md5_of_body}};
  if (!sent.md5_of_attributes.empty()) out["MD5OfMessageAttributes"] = sent.md5_of_attributes;
  if (!sent.md5_of_system_attributes.empty()) {
    out["MD5OfMessageSystemAttributes"] = sent.md5_of_system_attributes;
  }
  if (!sent.sequence_number.empty()) out["SequenceNumber"] = sent.sequence_number;
  return out;
}

json FailedEntry(const std::string& id, const Status& status) {
  return {{"Id", id},
          {"SenderFault", IsSenderFault(status.code())},
          {"Code", EntryErrorCode(status.code())},
          {"Message", status.message()}};
}

}  // namespace

void SendMessage(Call& call, Reply reply) {
  POSTBOX_QUEUE_OR_REPLY(queue, call, reply);
  auto message = ParseNewMessage(call.input);
  if (!message.ok()) return reply(message.status());
  message->trace_header = call.context.trace_header;  // SendMessage only, not batches
  // A message that fails validation is not stored; its error becomes the request's error.
  std::vector<core::NewMessage> batch;
  batch.push_back(std::move(*message));
  call.service->SendMessages(queue, std::move(batch), call.SenderId(),
                             [reply = std::move(reply)](std::vector<Result<core::SentMessage>> r) {
                               if (!r.at(0).ok()) return reply(r[0].status());
                               reply(SentToJson(*r[0]));
                             });
}

void SendMessageBatch(Call& call, Reply reply) {
  POSTBOX_QUEUE_OR_REPLY(queue, call, reply);
  auto entries = BatchEntries(call, "SendMessageBatchRequestEntry");
  if (!entries.ok()) return reply(entries.status());
  std::vector<core::NewMessage> messages;
  std::vector<std::string> ids;
  json failed = json::array();
  size_t total = 0;
  for (auto& entry : *entries) {
    std::string id = entry["Id"].get<std::string>();
    auto message = ParseNewMessage(entry);
    if (!message.ok()) {
      failed.push_back(FailedEntry(id, message.status()));
      continue;
    }
    total += core::MessageSize(*message);
    ids.push_back(id);
    messages.push_back(std::move(*message));
  }
  if (total > kMaxBatchBytes) {
    return reply(Status(ErrorCode::kBatchRequestTooLong,
                        "Batch requests cannot be longer than 1048576 bytes. You have sent " +
                            std::to_string(total) + " bytes."));
  }
  if (Status s = core::CheckFifoBatch(queue->config(), messages); !s.ok()) return reply(s);
  call.service->SendMessages(
      queue, std::move(messages), call.SenderId(),
      [reply = std::move(reply), ids = std::move(ids),
       failed = std::move(failed)](std::vector<Result<core::SentMessage>> results) mutable {
        // Storage could not take the batch: the request fails (503), not its entries.
        if (const Status* fault = TransientFailureIn(results)) return reply(*fault);
        json successful = json::array();
        for (size_t i = 0; i < results.size(); ++i) {
          if (results[i].ok()) {
            json entry = SentToJson(*results[i]);
            entry["Id"] = ids[i];
            successful.push_back(std::move(entry));
          } else {
            failed.push_back(FailedEntry(ids[i], results[i].status()));
          }
        }
        reply(json{{"Successful", successful}, {"Failed", failed}});
      });
}

void DeleteMessage(Call& call, Reply reply) {
  POSTBOX_QUEUE_OR_REPLY(queue, call, reply);
  auto handle = call.RequiredString("ReceiptHandle");
  if (!handle.ok()) return reply(handle.status());
  call.service->DeleteMessage(queue, *handle, [reply = std::move(reply)](Status s) {
    if (!s.ok()) return reply(s);
    reply(json::object());
  });
}

// Successful / Failed lists for a batch whose entries were applied in order.
static json BatchOutcome(const json& entries, const std::vector<Status>& results) {
  json successful = json::array();
  json failed = json::array();
  for (size_t i = 0; i < results.size(); ++i) {
    std::string id = entries[i]["Id"].get<std::string>();
    if (results[i].ok()) {
      successful.push_back({{"Id", id}});
    } else {
      failed.push_back(FailedEntry(id, results[i]));
    }
  }
  return json{{"Successful", successful}, {"Failed", failed}};
}

void DeleteMessageBatch(Call& call, Reply reply) {
  POSTBOX_QUEUE_OR_REPLY(queue, call, reply);
  auto entries = BatchEntries(call, "DeleteMessageBatchRequestEntry");
  if (!entries.ok()) return reply(entries.status());
  std::vector<std::string> handles;
  for (const auto& entry : *entries) {
    auto handle = StringMember(entry, "ReceiptHandle");
    if (!handle.ok()) return reply(handle.status());
    handles.push_back(std::move(*handle));
  }
  call.service->DeleteMessages(
      queue, handles,
      [reply = std::move(reply), entries = *entries](Result<std::vector<Status>> results) {
        if (!results.ok()) return reply(results.status());
        reply(BatchOutcome(entries, *results));
      });
}

void ChangeMessageVisibility(Call& call, Reply reply) {
  POSTBOX_QUEUE_OR_REPLY(queue, call, reply);
  auto handle = call.RequiredString("ReceiptHandle");
  if (!handle.ok()) return reply(handle.status());
  auto timeout = call.OptionalInt("VisibilityTimeout");
  if (!timeout.ok()) return reply(timeout.status());
  if (!timeout->has_value()) {
    return reply(Status(ErrorCode::kMissingParameter,
                        "The request must contain the parameter VisibilityTimeout."));
  }
  call.service->ChangeMessageVisibility(queue, *handle, **timeout,
                                        [reply = std::move(reply)](Status s) {
                                          if (!s.ok()) return reply(s);
                                          reply(json::object());
                                        });
}

void ChangeMessageVisibilityBatch(Call& call, Reply reply) {
  POSTBOX_QUEUE_OR_REPLY(queue, call, reply);
  auto entries = BatchEntries(call, "ChangeMessageVisibilityBatchRequestEntry");
  if (!entries.ok()) return reply(entries.status());
  // Entries with a missing or non-integer timeout fail alone; the rest go as one batch.
  std::vector<Status> results(entries->size());
  std::vector<core::QueueService::VisibilityChange> changes;
  std::vector<size_t> positions;
  for (size_t i = 0; i < entries->size(); ++i) {
    Call entry;
    entry.input = (*entries)[i];
    auto timeout = entry.OptionalInt("VisibilityTimeout");
    if (!timeout.ok()) {
      results[i] = timeout.status();
    } else if (!timeout->has_value()) {
      results[i] = Status(ErrorCode::kMissingParameter,
                          "The request must contain the parameter VisibilityTimeout.");
    } else {
      changes.push_back({entry.OptionalString("ReceiptHandle"), **timeout});
      positions.push_back(i);
    }
  }
  call.service->ChangeMessageVisibilities(
      queue, changes,
      [reply = std::move(reply), entries = *entries, results = std::move(results),
       positions = std::move(positions)](Result<std::vector<Status>> applied) mutable {
        if (!applied.ok()) return reply(applied.status());
        for (size_t k = 0; k < applied->size(); ++k) results[positions[k]] = (*applied)[k];
        reply(BatchOutcome(entries, results));
      });
}

}  // namespace postbox::wire::sqs
