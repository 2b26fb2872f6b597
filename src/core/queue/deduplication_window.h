// DeduplicationWindow: the FIFO deduplication interval of one queue.
//
// A send whose deduplication key was seen in the last five minutes is accepted but not
// enqueued again; it answers with the first send's MessageId and SequenceNumber ("Exactly-once
// processing in Amazon SQS", SQS Developer Guide). Entries are persisted as records next to
// the messages (storage::RecordKind::kDeduplication) so that the window survives a restart.
// Thread-safety: internally locked.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace postbox::core {

inline constexpr int64_t kDeduplicationIntervalMs = 5 * 60 * 1000;

struct DeduplicationEntry {
  std::string message_id;
  std::string sequence_number;
  int64_t expires_ms = 0;

  std::string Encode() const;
  static std::optional<DeduplicationEntry> Decode(std::string_view blob);
  bool operator==(const DeduplicationEntry&) const = default;
};

class DeduplicationWindow {
 public:
  // If `key` is held by an unexpired entry, returns it; otherwise records `entry` under `key`
  // and returns nullopt. Atomic, so two concurrent sends of one key cannot both enqueue.
  std::optional<DeduplicationEntry> Claim(const std::string& key, const DeduplicationEntry& entry,
                                          int64_t now_ms);
  // Undoes a Claim whose message could not be stored.
  void Forget(const std::string& key, const std::string& message_id);
  // Start-up: re-adds a persisted entry (ignored if already expired).
  void Restore(std::string key, DeduplicationEntry entry, int64_t now_ms);
  // Removes expired entries; returns their keys so their records can be deleted.
  std::vector<std::string> SweepExpired(int64_t now_ms);
  // PurgeQueue: forgets every entry; returns their keys so their records can be deleted.
  std::vector<std::string> Clear();
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, DeduplicationEntry> entries_;
  // (expires_ms, key) in claim order, which is expiry order: the sweep only looks at the front.
  std::deque<std::pair<int64_t, std::string>> expiry_order_;
};

}  // namespace postbox::core
