// The rules AWS applies to message bodies and attributes, and the attribute digest the SDKs
// verify. Sources: "Amazon SQS message quotas", "Message metadata for Amazon SQS" and
// "Calculating the MD5 message digest for message attributes" (SQS Developer Guide).
#pragma once

#include <string_view>

#include "base/status.h"
#include "core/queue/message.h"

namespace postbox::core {

inline constexpr int kMaxMessageAttributes = 10;
inline constexpr size_t kMaxAttributeNameLength = 256;

// Body must be UTF-8 made of #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF.
Status ValidateBody(std::string_view body);

// A message attribute name under AWS. or Amazon. (any casing): a name AWS keeps for itself.
bool HasReservedAttributePrefix(std::string_view name);

// Names, types and values of user attributes (kind = "user") or system attributes.
Status ValidateAttributes(const MessageAttributes& attributes);
Status ValidateSystemAttributes(const MessageAttributes& attributes);

// MessageGroupId, MessageDeduplicationId and ReceiveRequestAttemptId: 1 to 128 characters,
// alphanumeric or punctuation ("SendMessage", SQS API Reference).
Status ValidateFifoToken(std::string_view parameter, std::string_view value);

// The size counted against MaximumMessageSize: body plus each attribute's name, type and value.
size_t MessageSize(const NewMessage& message);

// Hex MD5 of the attributes in AWS's length-prefixed encoding; empty for no attributes.
std::string Md5OfAttributes(const MessageAttributes& attributes);

}  // namespace postbox::core
