// Fuzzes the core's decoders of untrusted bytes:
//  - core::ReceiptHandle::Decode (client-supplied text); a handle that decodes must encode to
//    text that decodes to the same value. Because a random input rarely passes the SHA-256
//    check, the first 20 bytes also build a handle directly to round-trip.
//  - core::DecodeMessage (a stored record); a record that decodes must re-encode and decode to
//    the same message.
//  - core::ValidateBody, checked against an independent reference of the allowed characters.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "core/queue/message_codec.h"
#include "core/queue/message_rules.h"
#include "core/queue/receipt_handle.h"

namespace {

using postbox::core::Message;
using postbox::core::ReceiptHandle;

void CheckRoundTrip(const ReceiptHandle& h) {
  auto again = ReceiptHandle::Decode(h.Encode());
  if (!again || !(*again == h)) std::abort();
}

bool SameMessage(const Message& a, const Message& b) {
  return a.message_id == b.message_id && a.body == b.body && a.attributes == b.attributes &&
         a.system_attributes == b.system_attributes && a.sender_id == b.sender_id &&
         a.sent_ms == b.sent_ms && a.message_group_id == b.message_group_id &&
         a.message_deduplication_id == b.message_deduplication_id &&
         a.dead_letter_source_arn == b.dead_letter_source_arn && a.md5_of_body == b.md5_of_body &&
         a.md5_of_attributes == b.md5_of_attributes &&
         a.md5_of_system_attributes == b.md5_of_system_attributes;
}

// Well-formed UTF-8 of #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF.
bool ReferenceBodyValid(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    uint8_t c = uint8_t(s[i]);
    uint32_t cp;
    size_t n;
    if (c < 0x80) {
      cp = c, n = 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
      cp = c & 0x1F, n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      cp = c & 0x0F, n = 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      cp = c & 0x07, n = 4;
    } else {
      return false;
    }
    if (s.size() - i < n) return false;
    for (size_t k = 1; k < n; ++k) {
      uint8_t cc = uint8_t(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n]) return false;
    bool allowed = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
                   (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
    if (!allowed) return false;
    i += n;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto handle = ReceiptHandle::Decode(text)) CheckRoundTrip(*handle);
  if (size >= 20) {
    ReceiptHandle h;
    std::memcpy(&h.queue_incarnation, data, 8);
    std::memcpy(&h.seq, data + 8, 8);
    std::memcpy(&h.receive_count, data + 16, 4);
    CheckRoundTrip(h);
  }

  Message message;
  if (postbox::core::DecodeMessage(text, &message).ok()) {
    Message again;
    if (!postbox::core::DecodeMessage(postbox::core::EncodeMessage(message), &again).ok() ||
        !SameMessage(message, again)) {
      std::abort();
    }
  }

  bool valid = postbox::core::ValidateBody(text).ok();
  if (valid != ReferenceBodyValid(text)) std::abort();
  return 0;
}
