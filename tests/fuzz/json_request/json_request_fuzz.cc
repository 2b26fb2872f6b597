// Fuzzes the JSON-protocol edge: a request body through wire::ParseJson (simdjson, as the
// front-end calls it; what it accepts must survive the response writer and parse back equal) and,
// when it is an object, the typed readers of wire::sqs::Call that every action handler uses on its
// input, including BatchEntries and the readers run on each batch entry.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "wire/common/json_reader.h"
#include "wire/common/json_writer.h"
#include "wire/sqs/sqs_call.h"
#include "wire/sqs/sqs_protocol.h"

namespace {

using postbox::wire::sqs::Call;

// Member names the handlers read, plus whatever names the input itself carries.
constexpr const char* kNames[] = {"QueueUrl",
                                  "QueueName",
                                  "MessageBody",
                                  "ReceiptHandle",
                                  "DelaySeconds",
                                  "VisibilityTimeout",
                                  "WaitTimeSeconds",
                                  "MaxNumberOfMessages",
                                  "MessageGroupId",
                                  "Attributes",
                                  "Tags",
                                  "TagKeys",
                                  "AttributeNames",
                                  "MessageAttributeNames",
                                  "MessageSystemAttributeNames",
                                  "Label",
                                  "AWSAccountIds",
                                  "Actions",
                                  "NextToken",
                                  "MaxResults",
                                  "QueueNamePrefix",
                                  "Entries",
                                  "Id",
                                  "ReceiveRequestAttemptId"};

void ExerciseReaders(const Call& call) {
  std::vector<std::string> names(std::begin(kNames), std::end(kNames));
  if (call.input.is_object()) {
    for (const auto& [key, value] : call.input.items()) names.push_back(key);
  }
  for (const auto& name : names) {
    const char* n = name.c_str();
    auto required = call.RequiredString(n);
    std::string optional = call.OptionalString(n);
    if (required.ok() && *required != optional) std::abort();
    auto number = call.OptionalInt(n);
    (void)number;
    auto list = call.StringList(n);
    (void)list;
    auto map = call.StringMap(n);
    (void)map;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string body(reinterpret_cast<const char*>(data), size);
  auto parsed = postbox::wire::ParseJson(body);
  if (!parsed) return 0;
  auto reparsed = postbox::wire::ParseJson(postbox::wire::ToJson(*parsed));
  if (!reparsed || *reparsed != *parsed) std::abort();
  if (!parsed->is_object()) return 0;
  nlohmann::json input = std::move(*parsed);

  Call call;
  call.action = "SendMessageBatch";
  call.input = std::move(input);
  ExerciseReaders(call);
  // The query protocol's response writer over the same structure (before BatchEntries moves
  // the entries out of the input).
  std::string xml = postbox::wire::sqs::OutputToXml(call.action, call.input, "fuzz-request-id");
  (void)xml;

  auto entries = postbox::wire::sqs::BatchEntries(call, "X");
  if (entries.ok()) {
    if (!entries->is_array() || entries->empty() || entries->size() > 10) std::abort();
    for (const auto& entry : *entries) {
      if (!entry.is_object()) std::abort();  // every entry carries a valid Id
      Call sub;
      sub.action = call.action;
      sub.input = entry;
      ExerciseReaders(sub);
    }
  }
  return 0;
}
