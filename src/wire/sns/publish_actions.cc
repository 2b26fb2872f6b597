// Publish and PublishBatch.
#include <set>

#include "base/encoding.h"
#include "wire/sns/sns_arn.h"
#include "wire/sns/sns_call.h"

namespace postbox::wire::sns {
namespace {

using nlohmann::json;

constexpr size_t kMaxBatchEntries = 10;
constexpr size_t kMaxBatchBytes = 262144;

// `path` names the entry in AWS's validation messages: "" for Publish,
// "publishBatchRequestEntries.<n>.member." for the n-th (from 1) PublishBatch entry.
Result<core::MessageAttributes> ReadAttributes(const json& entry, const std::string& path) {
  core::MessageAttributes out;
  auto it = entry.find("MessageAttributes");
  if (it == entry.end() || !it->is_object()) return out;
  for (const auto& [name, value] : it->items()) {
    core::AttributeValue a;
    a.data_type = value.is_object() ? StringMember(value, "DataType") : "";
    if (a.data_type.empty()) {
      // DataType is required by the API model, so AWS refuses it before any SNS rule.
      return Status(ErrorCode::kValidationError,
                    "1 validation error detected: Value null at '" + path + "messageAttributes." +
                        name +
                        ".member.dataType' failed to satisfy constraint: Member must "
                        "not be null");
    }
    a.string_value = StringMember(value, "StringValue");
    std::string binary = StringMember(value, "BinaryValue");
    if (!binary.empty()) {
      auto decoded = Base64Decode(binary);
      if (!decoded) {
        return Status(ErrorCode::kInvalidParameterValue,
                      "The message attribute '" + name + "' contains an invalid Base64 value.");
      }
      a.binary_value = std::move(*decoded);
    }
    out[name] = std::move(a);
  }
  return out;
}

Result<core::PublishRequest> ReadRequest(const json& entry, const std::string& path = "") {
  core::PublishRequest request;
  auto text = [&](const char* name) {
    auto it = entry.find(name);
    return it != entry.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (!entry.contains("Message")) {
    return Status(ErrorCode::kInvalidParameter,
                  "Invalid parameter: Message Reason: no value for required parameter");
  }
  request.message = text("Message");
  if (entry.contains("Subject") && text("Subject").empty()) {
    return Status(ErrorCode::kInvalidParameter, "Invalid parameter: Subject");
  }
  request.subject = text("Subject");
  request.message_structure = text("MessageStructure");
  if (entry.contains("MessageGroupId")) request.message_group_id = text("MessageGroupId");
  request.message_deduplication_id = text("MessageDeduplicationId");
  auto attributes = ReadAttributes(entry, path);
  if (!attributes.ok()) return attributes.status();
  request.attributes = std::move(*attributes);
  return request;
}

void WriteEntryResult(XmlWriter& xml, const std::string& id, const core::PublishResult& result) {
  xml.Open("member");
  xml.Element("Id", id);
  xml.Element("MessageId", result.message_id);
  if (!result.sequence_number.empty()) xml.Element("SequenceNumber", result.sequence_number);
  xml.Close();
}

}  // namespace

void Publish(SnsCall& call, Reply reply) {
  std::string topic = call.String("TopicArn");
  if (topic.empty()) topic = call.String("TargetArn");
  const bool to_phone = topic.empty() && call.input.contains("PhoneNumber");
  const bool to_endpoint =
      !call.input.contains("TopicArn") && topic.find(":endpoint/") != std::string::npos;
  if (topic.empty() && !to_phone) {
    return reply(Status(ErrorCode::kInvalidParameter,
                        "Invalid parameter: TopicArn or TargetArn Reason: no value for required "
                        "parameter"));
  }
  if (to_phone || to_endpoint) {
    auto request = ReadRequest(call.input);
    if (!request.ok()) return reply(request.status());
    if (to_phone) return PublishToPhoneNumber(call, *request, std::move(reply));
    return PublishToEndpoint(call, topic, *request, std::move(reply));
  }
  auto arn = RequiredArn(call, call.input.contains("TopicArn") ? "TopicArn" : "TargetArn");
  if (!arn.ok()) return reply(arn.status());
  auto request = ReadRequest(call.input);
  if (!request.ok()) return reply(request.status());
  request->trace_header = call.context.trace_header;
  call.topics->Publish(*arn, std::move(*request), call.base_url,
                       [reply](Result<core::PublishResult> result) {
                         if (!result.ok()) return reply(result.status());
                         Answer(reply, [result = *result](XmlWriter& xml) {
                           xml.Element("MessageId", result.message_id);
                           if (!result.sequence_number.empty()) {
                             xml.Element("SequenceNumber", result.sequence_number);
                           }
                         });
                       });
}

void PublishBatch(SnsCall& call, Reply reply) {
  auto arn = RequiredArn(call, "TopicArn");
  if (!arn.ok()) return reply(arn.status());
  auto entries = call.input.find("PublishBatchRequestEntries");
  if (entries == call.input.end() || !entries->is_array() || entries->empty()) {
    return reply(
        Status(ErrorCode::kEmptyBatchRequest, "The batch request doesn't contain any entries."));
  }
  if (entries->size() > kMaxBatchEntries) {
    return reply(Status(ErrorCode::kTooManyEntriesInBatchRequest,
                        "The batch request contains more entries than permissible."));
  }
  std::vector<std::string> ids;
  std::set<std::string> seen;
  std::vector<core::PublishRequest> requests;
  size_t total = 0;
  for (const auto& entry : *entries) {
    std::string id = StringMember(entry, "Id");
    for (char c : id) {
      if (!std::isalnum(uint8_t(c)) && c != '-' && c != '_') {
        return reply(Status(ErrorCode::kInvalidBatchEntryId,
                            "The Id of a batch entry in the batch request contains an "
                            "impermissible character: " +
                                id));
      }
    }
    if (id.size() > 80) {
      return reply(Status(ErrorCode::kInvalidBatchEntryId,
                          "The Id of a batch entry in the batch request is too long: " + id));
    }
    if (id.empty()) {
      return reply(Status(ErrorCode::kInvalidParameter,
                          "Invalid parameter: Id Reason: no value for required parameter"));
    }
    if (!seen.insert(id).second) {
      return reply(Status(ErrorCode::kBatchEntryIdsNotDistinct,
                          "Two or more batch entries in the request have the same Id."));
    }
    auto request = ReadRequest(
        entry, "publishBatchRequestEntries." + std::to_string(ids.size() + 1) + ".member.");
    if (!request.ok()) return reply(request.status());
    total += request->message.size();
    for (const auto& [name, value] : request->attributes) {
      total += name.size() + value.data_type.size() + value.string_value.size() +
               value.binary_value.size();
    }
    ids.push_back(std::move(id));
    requests.push_back(std::move(*request));
  }
  if (total > kMaxBatchBytes) {
    return reply(Status(ErrorCode::kBatchRequestTooLong,
                        "The length of all the messages put together is more than the limit."));
  }
  call.topics->PublishBatch(
      *arn, std::move(requests), call.base_url,
      [reply, ids = std::move(ids)](std::vector<Result<core::PublishResult>> results) {
        // Validation failures arrive as the same error for every entry: the request's error.
        for (const auto& r : results) {
          if (!r.ok() && !IsServerFault(r.status().code())) {
            return reply(r.status());
          }
        }
        Answer(reply, [ids, results = std::move(results)](XmlWriter& xml) {
          xml.Open("Successful");
          for (size_t i = 0; i < results.size(); ++i) {
            if (results[i].ok()) WriteEntryResult(xml, ids[i], *results[i]);
          }
          xml.Close();
          xml.Open("Failed");
          for (size_t i = 0; i < results.size(); ++i) {
            if (results[i].ok()) continue;
            xml.Open("member");
            xml.Element("Id", ids[i]);
            xml.Element("Code", "InternalError");
            xml.Element("Message", results[i].status().message());
            xml.Element("SenderFault", "false");
            xml.Close();
          }
          xml.Close();
        });
      });
}

}  // namespace postbox::wire::sns
