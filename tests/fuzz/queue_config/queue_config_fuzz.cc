// Fuzzes the core's parsers of queue settings and of FIFO / move-task tokens:
//  - core::QueueConfig::Apply on one attribute (the first byte picks the name, the rest is the
//    value): RedrivePolicy and RedriveAllowPolicy JSON, numbers, booleans, enums. A config that
//    applies must give attributes that apply again to the same attributes.
//  - core::DecodeTaskHandle (client-supplied); a handle that decodes must re-encode and decode
//    to the same pair.
//  - core::DeduplicationEntry::Decode (a stored record, either version); an entry that decodes
//    round-trips.
//  - ParseUuid (a stored id); a UUID that parses prints back as its text in lowercase.
//  - core::ValidateFifoToken, checked against the reference character rule.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/uuid.h"
#include "core/queue/deduplication_window.h"
#include "core/queue/message_rules.h"
#include "core/queue/move_tasks.h"
#include "core/queue/queue_config.h"

namespace {

using postbox::core::AttributeMap;
using postbox::core::QueueConfig;

constexpr const char* kNames[] = {"RedrivePolicy",
                                  "RedriveAllowPolicy",
                                  "Policy",
                                  "FifoQueue",
                                  "ContentBasedDeduplication",
                                  "DeduplicationScope",
                                  "FifoThroughputLimit",
                                  "DelaySeconds",
                                  "MaximumMessageSize",
                                  "VisibilityTimeout",
                                  "KmsDataKeyReusePeriodSeconds",
                                  "KmsMasterKeyId",
                                  "SqsManagedSseEnabled"};

void FuzzConfig(std::string_view data) {
  if (data.empty()) return;
  const char* name = kNames[uint8_t(data[0]) % std::size(kNames)];
  QueueConfig config;
  config.fifo_queue = (uint8_t(data[0]) & 0x80) != 0;
  AttributeMap attributes = {{name, std::string(data.substr(1))}};
  if (!config.Apply(attributes, /*creating=*/true).ok()) return;
  AttributeMap shown = config.ToAttributes();
  QueueConfig again;
  again.fifo_queue = config.fifo_queue;
  if (!again.Apply(shown, /*creating=*/true).ok()) std::abort();
  if (again.ToAttributes() != shown) std::abort();
}

void FuzzTaskHandle(std::string_view data) {
  auto decoded = postbox::core::DecodeTaskHandle(data);
  if (!decoded) return;
  auto again = postbox::core::DecodeTaskHandle(
      postbox::core::EncodeTaskHandle(decoded->first, decoded->second));
  if (!again || *again != *decoded) std::abort();
}

void FuzzDeduplicationEntry(std::string_view data) {
  auto entry = postbox::core::DeduplicationEntry::Decode(data);
  if (!entry) return;
  auto again = postbox::core::DeduplicationEntry::Decode(entry->Encode());
  if (!again || !(*again == *entry)) std::abort();
}

// A UUID that parses is printed back as the same text, in lowercase.
void FuzzUuid(std::string_view data) {
  auto bytes = postbox::ParseUuid(data);
  if (!bytes) return;
  std::string lower(data);
  for (char& c : lower) c = char(std::tolower(uint8_t(c)));
  if (postbox::FormatUuid(*bytes) != lower) std::abort();
}

void FuzzFifoToken(std::string_view data) {
  bool reference = !data.empty() && data.size() <= 128;
  for (char c : data) {
    reference = reference && (std::isalnum(uint8_t(c)) || std::ispunct(uint8_t(c)));
  }
  if (postbox::core::ValidateFifoToken("MessageGroupId", data).ok() != reference) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  std::string_view data(reinterpret_cast<const char*>(bytes), size);
  FuzzConfig(data);
  FuzzTaskHandle(data);
  FuzzDeduplicationEntry(data);
  FuzzUuid(data);
  FuzzFifoToken(data);
  return 0;
}
