// ReceiptHandle: the opaque token a receive hands out and delete/visibility calls bring back.
//
// It names the queue incarnation (so a handle outlives neither its queue nor a re-created
// queue of the same name), the message's seq, and which receive issued it. Text form:
// base64 of a version byte, the three numbers (little-endian) and a 4-byte check of the rest
// (receipt_handle.cc), so a truncated or altered handle is rejected as ReceiptHandleIsInvalid
// as AWS does, rather than silently naming another message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postbox::core {

struct ReceiptHandle {
  uint64_t queue_incarnation = 0;
  uint64_t seq = 0;
  uint32_t receive_count = 0;

  std::string Encode() const;
  static std::optional<ReceiptHandle> Decode(std::string_view text);
  bool operator==(const ReceiptHandle&) const = default;
};

}  // namespace postbox::core
