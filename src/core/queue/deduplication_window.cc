#include "core/queue/deduplication_window.h"

#include <algorithm>
#include <cstring>

namespace postbox::core {

// Record format (one per FIFO send, so kept small and cheap): u8 version = 1, i64 expires_ms
// (little-endian), u8 length + message id, u8 length + sequence number. Both strings are at
// most 36 and 20 characters.
namespace {
constexpr uint8_t kRecordVersion = 1;
}  // namespace

std::string DeduplicationEntry::Encode() const {
  std::string out;
  out.reserve(1 + 8 + 2 + message_id.size() + sequence_number.size());
  out.push_back(char(kRecordVersion));
  out.append(reinterpret_cast<const char*>(&expires_ms), 8);
  for (const std::string* s : {&message_id, &sequence_number}) {
    out.push_back(char(uint8_t(std::min<size_t>(s->size(), 255))));
    out.append(*s, 0, 255);
  }
  return out;
}

std::optional<DeduplicationEntry> DeduplicationEntry::Decode(std::string_view blob) {
  if (blob.size() < 1 + 8 + 2 || uint8_t(blob[0]) != kRecordVersion) return std::nullopt;
  DeduplicationEntry e;
  std::memcpy(&e.expires_ms, blob.data() + 1, 8);
  size_t pos = 9;
  for (std::string* s : {&e.message_id, &e.sequence_number}) {
    if (pos >= blob.size()) return std::nullopt;
    size_t length = uint8_t(blob[pos++]);
    if (length > blob.size() - pos) return std::nullopt;
    s->assign(blob.substr(pos, length));
    pos += length;
  }
  if (pos != blob.size() || e.message_id.empty()) return std::nullopt;
  return e;
}

std::optional<DeduplicationEntry> DeduplicationWindow::Claim(const std::string& key,
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

void DeduplicationWindow::Forget(const std::string& key, const std::string& message_id) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.message_id == message_id) entries_.erase(it);
}

void DeduplicationWindow::Restore(std::string key, DeduplicationEntry entry, int64_t now_ms) {
  if (entry.expires_ms <= now_ms) return;
  std::lock_guard lock(mu_);
  int64_t expires = entry.expires_ms;
  entries_[key] = std::move(entry);
  // Records load in key order, not expiry order: keep the deque sorted.
  auto pos = std::upper_bound(expiry_order_.begin(), expiry_order_.end(),
                              std::pair<int64_t, std::string>(expires, key));
  expiry_order_.emplace(pos, expires, std::move(key));
}

std::vector<std::string> DeduplicationWindow::SweepExpired(int64_t now_ms) {
  std::vector<std::string> removed;
  std::lock_guard lock(mu_);
  while (!expiry_order_.empty() && expiry_order_.front().first <= now_ms) {
    auto& [expires, key] = expiry_order_.front();
    auto it = entries_.find(key);
    // A key claimed again later has a newer expiry; only its latest claim removes it.
    if (it != entries_.end() && it->second.expires_ms == expires) {
      entries_.erase(it);
      removed.push_back(std::move(key));
    }
    expiry_order_.pop_front();
  }
  return removed;
}

std::vector<std::string> DeduplicationWindow::Clear() {
  std::vector<std::string> keys;
  std::lock_guard lock(mu_);
  keys.reserve(entries_.size());
  for (auto& [key, entry] : entries_) keys.push_back(key);
  entries_.clear();
  expiry_order_.clear();
  return keys;
}

size_t DeduplicationWindow::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace postbox::core
