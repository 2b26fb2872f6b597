#include "core/queue/receipt_handle.h"

#include <cstring>

#include "base/encoding.h"

namespace postbox::core {
namespace {

constexpr uint8_t kVersion = 1;
constexpr size_t kPayloadSize = 1 + 8 + 8 + 4;
constexpr size_t kCheckSize = 4;

}  // namespace

std::string ReceiptHandle::Encode() const {
  std::string raw(kPayloadSize, '\0');
  raw[0] = char(kVersion);
  std::memcpy(raw.data() + 1, &queue_incarnation, 8);
  std::memcpy(raw.data() + 9, &seq, 8);
  std::memcpy(raw.data() + 17, &receive_count, 4);
  raw += Sha256(raw).substr(0, kCheckSize);
  return Base64Encode(raw);
}

std::optional<ReceiptHandle> ReceiptHandle::Decode(std::string_view text) {
  if (text.size() > 64) return std::nullopt;
  auto raw = Base64Decode(text);
  if (!raw || raw->size() != kPayloadSize + kCheckSize || uint8_t((*raw)[0]) != kVersion) {
    return std::nullopt;
  }
  std::string_view payload(raw->data(), kPayloadSize);
  if (Sha256(payload).compare(0, kCheckSize, raw->data() + kPayloadSize, kCheckSize) != 0) {
    return std::nullopt;
  }
  ReceiptHandle h;
  std::memcpy(&h.queue_incarnation, raw->data() + 1, 8);
  std::memcpy(&h.seq, raw->data() + 9, 8);
  std::memcpy(&h.receive_count, raw->data() + 17, 4);
  return h;
}

}  // namespace postbox::core
