#include "core/queue/receipt_handle.h"

#include <cstring>

#include "base/encoding.h"

namespace postbox::core {
namespace {

// Version 1 took its check from SHA-256; version 2 from Check() below, which costs a few
// nanoseconds instead of an OpenSSL digest per receive and per delete. Both are read, so
// handles given out before an upgrade stay valid.
constexpr uint8_t kSha256Version = 1;
constexpr uint8_t kVersion = 2;
constexpr size_t kPayloadSize = 1 + 8 + 8 + 4;
constexpr size_t kCheckSize = 4;

// FNV-1a over the payload, then MurmurHash3's 64-bit finalizer so that every payload bit
// moves the kept bytes. A check against damaged or made-up text, not a signature: the handle
// carries nothing secret.
std::string Check(std::string_view payload) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : payload) h = (h ^ uint8_t(c)) * 0x100000001b3ULL;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  std::string out(kCheckSize, '\0');
  std::memcpy(out.data(), &h, kCheckSize);
  return out;
}

}  // namespace

std::string ReceiptHandle::Encode() const {
  std::string raw(kPayloadSize, '\0');
  raw[0] = char(kVersion);
  std::memcpy(raw.data() + 1, &queue_incarnation, 8);
  std::memcpy(raw.data() + 9, &seq, 8);
  std::memcpy(raw.data() + 17, &receive_count, 4);
  raw += Check(raw);
  return Base64Encode(raw);
}

std::optional<ReceiptHandle> ReceiptHandle::Decode(std::string_view text) {
  if (text.size() > 64) return std::nullopt;
  auto raw = Base64Decode(text);
  if (!raw || raw->size() != kPayloadSize + kCheckSize) return std::nullopt;
  const uint8_t version = uint8_t((*raw)[0]);
  if (version != kVersion && version != kSha256Version) return std::nullopt;
  std::string_view payload(raw->data(), kPayloadSize);
  std::string check = version == kVersion ? Check(payload) : Sha256(payload);
  if (check.compare(0, kCheckSize, raw->data() + kPayloadSize, kCheckSize) != 0) {
    return std::nullopt;
  }
  ReceiptHandle h;
  std::memcpy(&h.queue_incarnation, raw->data() + 1, 8);
  std::memcpy(&h.seq, raw->data() + 9, 8);
  std::memcpy(&h.receive_count, raw->data() + 17, 4);
  return h;
}

}  // namespace postbox::core
