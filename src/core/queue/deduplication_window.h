// DeduplicationWindow: the FIFO deduplication interval of one queue.
//
// A send whose deduplication key was seen in the last five minutes is accepted but not
// enqueued again; it answers with the first send's MessageId and SequenceNumber ("Exactly-once
// processing in Amazon SQS", SQS Developer Guide). Entries are persisted as records next to
// the messages (storage::RecordKind::kDeduplication) so that the window survives a restart.
//
// A queue can take thousands of sends a second, each with its own entry for five minutes, so
// an entry has a fixed small size whatever the ids' lengths: the key is kept as a 128-bit
// hash (the first 16 bytes of its SHA-256), the message id as its 16 bytes and the sequence
// number as the message's seq. About 100 bytes per entry, the hash table and the expiry order
// included (docs/adr/0005-backlogs-beyond-memory.md).
// Thread-safety: internally locked.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/uuid.h"

namespace postbox::core {

inline constexpr int64_t kDeduplicationIntervalMs = 5 * 60 * 1000;

// The first 16 bytes of the SHA-256 of a deduplication key. Keys are chosen by clients, so a
// collision would have to be found for SHA-256 truncated to 128 bits: not a practical attack.
using DeduplicationHash = std::array<uint8_t, 16>;
DeduplicationHash HashDeduplicationKey(std::string_view key);

// For hash tables keyed by a DeduplicationHash: it is uniform already, so its first 8 bytes
// serve as the table's hash.
struct DeduplicationHashHasher {
  size_t operator()(const DeduplicationHash& h) const noexcept {
    size_t word;
    std::memcpy(&word, h.data(), sizeof(word));
    return word;
  }
};

// A hashed entry's storage record key: a zero byte (which no deduplication id or message group
// id can contain: they are printable ASCII) and the 16 bytes. Records written before the hash
// was kept are keyed by the key text itself.
std::string DeduplicationRecordKey(const DeduplicationHash& hash);
// The hash a record key stands for: the bytes of a hashed record's key, or the hash of an
// older record's key text.
DeduplicationHash HashOfRecordKey(std::string_view record_key);
// Whether a record key is in the older form, to be written again under its hash.
bool IsLegacyRecordKey(std::string_view record_key);

struct DeduplicationEntry {
  UuidBytes message_id{};
  uint64_t seq = 0;  // the SequenceNumber is derived from it (SequenceNumber in queue_service.h)
  int64_t expires_ms = 0;

  std::string Encode() const;
  // Reads both record versions (1 kept the ids as text; 2 is binary).
  static std::optional<DeduplicationEntry> Decode(std::string_view blob);
  bool operator==(const DeduplicationEntry&) const = default;
};

class DeduplicationWindow {
 public:
  // If `key` is held by an unexpired entry, returns it; otherwise records `entry` under `key`
  // and returns nullopt. Atomic, so two concurrent sends of one key cannot both enqueue.
  std::optional<DeduplicationEntry> Claim(const DeduplicationHash& key,
                                          const DeduplicationEntry& entry, int64_t now_ms);
  // Undoes a Claim whose message could not be stored.
  void Forget(const DeduplicationHash& key, const UuidBytes& message_id);
  // Start-up: re-adds a persisted entry (ignored if already expired).
  void Restore(const DeduplicationHash& key, const DeduplicationEntry& entry, int64_t now_ms);
  // Removes expired entries; returns their keys so their records can be deleted.
  std::vector<DeduplicationHash> SweepExpired(int64_t now_ms);
  // PurgeQueue: forgets every entry; returns their keys so their records can be deleted.
  std::vector<DeduplicationHash> Clear();
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<DeduplicationHash, DeduplicationEntry, DeduplicationHashHasher> entries_;
  // (expires_ms, key) in claim order, which is expiry order: the sweep only looks at the front.
  // After Restore, until the next sweep, it is in load order instead.
  std::deque<std::pair<int64_t, DeduplicationHash>> expiry_order_;
  bool unsorted_ = false;
};

}  // namespace postbox::core
