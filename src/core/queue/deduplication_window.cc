#include "core/queue/deduplication_window.h"

#include <algorithm>
#include <charconv>

#include "base/encoding.h"
#include "core/queue/message.h"

namespace postbox::core {

// Record formats (one record per FIFO send, so kept small and cheap; integers little-endian):
//   version 2: u8 2, 16 bytes message id, u64 seq, i64 expires_ms (33 bytes);
//   version 1: u8 1, i64 expires_ms, u8 length + message id text, u8 length + sequence number
//              text (read at start-up, and written again as version 2 under the hashed key).
namespace {

constexpr uint8_t kTextRecord = 1;
constexpr uint8_t kBinaryRecord = 2;
constexpr size_t kBinaryRecordSize = 1 + 16 + 8 + 8;
constexpr char kHashedKeyMarker = '\0';

// A version-1 record's SequenceNumber text back to the seq it was made of.
std::optional<uint64_t> SeqOfSequenceNumber(std::string_view text) {
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  // Numbers older than the 10^19 + seq form were the seq itself, zero-padded.
  return value >= kSequenceNumberBase ? value - kSequenceNumberBase : value;
}

std::optional<DeduplicationEntry> DecodeText(std::string_view blob) {
  if (blob.size() < 1 + 8 + 2) return std::nullopt;
  DeduplicationEntry e;
  std::memcpy(&e.expires_ms, blob.data() + 1, 8);
  std::string_view texts[2];
  size_t pos = 9;
  for (std::string_view& text : texts) {
    if (pos >= blob.size()) return std::nullopt;
    size_t length = uint8_t(blob[pos++]);
    if (length > blob.size() - pos) return std::nullopt;
    text = blob.substr(pos, length);
    pos += length;
  }
  if (pos != blob.size()) return std::nullopt;
  auto id = ParseUuid(texts[0]);
  auto seq = SeqOfSequenceNumber(texts[1]);
  if (!id || !seq) return std::nullopt;
  e.message_id = *id;
  e.seq = *seq;
  return e;
}

}  // namespace

DeduplicationHash HashDeduplicationKey(std::string_view key) {
  const std::string digest = Sha256(key);
  DeduplicationHash hash;
  std::memcpy(hash.data(), digest.data(), hash.size());
  return hash;
}

std::string DeduplicationRecordKey(const DeduplicationHash& hash) {
  std::string key(1, kHashedKeyMarker);
  key.append(reinterpret_cast<const char*>(hash.data()), hash.size());
  return key;
}

bool IsLegacyRecordKey(std::string_view record_key) {
  return record_key.size() != 1 + sizeof(DeduplicationHash) || record_key[0] != kHashedKeyMarker;
}

DeduplicationHash HashOfRecordKey(std::string_view record_key) {
  if (IsLegacyRecordKey(record_key)) return HashDeduplicationKey(record_key);
  DeduplicationHash hash;
  std::memcpy(hash.data(), record_key.data() + 1, hash.size());
  return hash;
}

std::string DeduplicationEntry::Encode() const {
  std::string out(kBinaryRecordSize, '\0');
  out[0] = char(kBinaryRecord);
  std::memcpy(out.data() + 1, message_id.data(), 16);
  std::memcpy(out.data() + 17, &seq, 8);
  std::memcpy(out.data() + 25, &expires_ms, 8);
  return out;
}

std::optional<DeduplicationEntry> DeduplicationEntry::Decode(std::string_view blob) {
  if (blob.empty()) return std::nullopt;
  if (uint8_t(blob[0]) == kTextRecord) return DecodeText(blob);
  if (uint8_t(blob[0]) != kBinaryRecord || blob.size() != kBinaryRecordSize) return std::nullopt;
  DeduplicationEntry e;
  std::memcpy(e.message_id.data(), blob.data() + 1, 16);
  std::memcpy(&e.seq, blob.data() + 17, 8);
  std::memcpy(&e.expires_ms, blob.data() + 25, 8);
  return e;
}

std::optional<DeduplicationEntry> DeduplicationWindow::Claim(const DeduplicationHash& key,
                                                             const DeduplicationEntry& entry,
                                                             int64_t now_ms) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = entries_.try_emplace(key, entry);
  if (!inserted) {
    if (it->second.expires_ms > now_ms) return it->second;
    it->second = entry;  // the old entry expired but was not swept yet
  }
  expiry_order_.emplace_back(entry.expires_ms, key);
  return std::nullopt;
}

void DeduplicationWindow::Forget(const DeduplicationHash& key, const UuidBytes& message_id) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.message_id == message_id) entries_.erase(it);
}

void DeduplicationWindow::Restore(const DeduplicationHash& key, const DeduplicationEntry& entry,
                                  int64_t now_ms) {
  if (entry.expires_ms <= now_ms) return;
  std::lock_guard lock(mu_);
  // Should one key have two records (it cannot, as records are converted in one batch), the
  // later interval wins.
  auto [it, inserted] = entries_.try_emplace(key, entry);
  if (!inserted && it->second.expires_ms >= entry.expires_ms) return;
  it->second = entry;
  // Records load in key order, not expiry order: the next sweep sorts them once (inserting
  // each in its place would cost a move of half the deque per record).
  expiry_order_.emplace_back(entry.expires_ms, key);
  unsorted_ = true;
}

std::vector<DeduplicationHash> DeduplicationWindow::SweepExpired(int64_t now_ms) {
  std::vector<DeduplicationHash> removed;
  std::lock_guard lock(mu_);
  if (unsorted_) {
    std::sort(expiry_order_.begin(), expiry_order_.end());
    unsorted_ = false;
  }
  while (!expiry_order_.empty() && expiry_order_.front().first <= now_ms) {
    const auto& [expires, key] = expiry_order_.front();
    auto it = entries_.find(key);
    // A key claimed again later has a newer expiry; only its latest claim removes it.
    if (it != entries_.end() && it->second.expires_ms == expires) {
      entries_.erase(it);
      removed.push_back(key);
    }
    expiry_order_.pop_front();
  }
  return removed;
}

std::vector<DeduplicationHash> DeduplicationWindow::Clear() {
  std::vector<DeduplicationHash> keys;
  std::lock_guard lock(mu_);
  keys.reserve(entries_.size());
  for (const auto& [key, entry] : entries_) keys.push_back(key);
  entries_.clear();
  expiry_order_.clear();
  unsorted_ = false;
  return keys;
}

size_t DeduplicationWindow::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace postbox::core
