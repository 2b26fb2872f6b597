// Message: one SQS message as the core keeps it, and the parts a sender gives.
// Plain values; a Queue owns its messages and guards them with its mutex.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "storage/engine.h"

namespace postbox::core {

// A message attribute value. DataType is "String", "Number", "Binary", optionally with a
// custom label ("Number.int"). Binary values hold raw bytes (base64 is a wire concern).
struct AttributeValue {
  std::string data_type;
  std::string string_value;
  std::string binary_value;
  bool is_binary() const { return data_type.rfind("Binary", 0) == 0; }
  bool operator==(const AttributeValue&) const = default;
};

// Ordered by name: MD5OfMessageAttributes is defined over the names in sorted order.
using MessageAttributes = std::map<std::string, AttributeValue>;

// What a sender supplies for one message.
struct NewMessage {
  std::string body;
  MessageAttributes attributes;
  MessageAttributes system_attributes;          // only AWSTraceHeader is allowed
  std::optional<int> delay_seconds;             // nullopt: the queue's DelaySeconds
  std::optional<std::string> message_group_id;  // absent and empty are different errors
  std::string message_deduplication_id;
  // The request's X-Amzn-Trace-Id header: becomes the AWSTraceHeader system attribute unless
  // the sender set that attribute itself (which wins, as on AWS).
  std::string trace_header;
};

struct Message {
  uint64_t seq = 0;  // storage order within the queue; never reused
  std::string message_id;
  std::string body;
  MessageAttributes attributes;
  MessageAttributes system_attributes;
  std::string sender_id;
  int64_t sent_ms = 0;
  std::string message_group_id;
  std::string message_deduplication_id;
  std::string dead_letter_source_arn;  // set when redriven into a dead-letter queue
  std::string sequence_number;         // FIFO queues: the seq in decimal; not stored
  std::string md5_of_body;
  std::string md5_of_attributes;         // empty when there are no attributes
  std::string md5_of_system_attributes;  // empty when there are none
  storage::MessageState state;
};

// A FIFO SequenceNumber is this plus the message's seq, in decimal (SequenceNumber in
// queue_service.h says why).
inline constexpr uint64_t kSequenceNumberBase = 10'000'000'000'000'000'000ULL;

// What SendMessage answers for one message.
struct SentMessage {
  std::string message_id;
  std::string md5_of_body;
  std::string md5_of_attributes;
  std::string md5_of_system_attributes;
  std::string sequence_number;  // FIFO only
};

}  // namespace postbox::core
