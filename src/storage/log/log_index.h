// LogIndex: where the live version of everything the log engine stores is, and how many live
// bytes each segment holds.
//
// The log engine appends every change; this index says which appended puts still count. It is
// filled by replaying the segments at start-up and then kept by the commit thread as it
// writes. A segment whose live bytes reach zero can be deleted; one with few can be copied
// forward (its live puts appended again) and then deleted.
//
// Thread-safety: none; the engine guards it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

#include "storage/engine.h"
#include "storage/log/log_format.h"

namespace postbox::storage {

// An operation's place in the log: its segment, offset and encoded size.
struct LogLocation {
  uint32_t segment = 0;
  uint32_t offset = 0;
  uint32_t size = 0;
  bool operator==(const LogLocation&) const = default;
};

class LogIndex {
 public:
  struct Usage {
    uint64_t entries = 0;
    uint64_t bytes = 0;
  };

  // Applies an operation the log holds at `at`.
  void Apply(const LogOp& op, const LogLocation& at);

  // Whether the put `op` at `at` is still the live version of what it puts. For a message,
  // also gives its current state (a put copied forward must carry it).
  bool IsLive(const LogOp& op, const LogLocation& at, MessageState* current_state) const;

  Usage UsageOf(uint32_t segment) const;
  uint64_t live_bytes() const { return live_bytes_; }
  // Drops the accounting of a segment that holds nothing live any more.
  void ForgetSegment(uint32_t segment) { usage_.erase(segment); }

  // Live entries in key order: queues by id, messages by (queue, seq), records by (queue, key).
  void ForEachQueue(const std::function<void(uint64_t, const LogLocation&)>& visit) const;
  void ForEachMessage(const std::function<void(uint64_t, uint64_t, const LogLocation&,
                                               const MessageState&)>& visit) const;
  void ForEachRecord(
      RecordKind kind,
      const std::function<void(uint64_t, std::string_view, const LogLocation&)>& visit) const;

 private:
  struct MessageEntry {
    LogLocation at;
    MessageState state;
  };
  // A queue's records by kind (one byte) and key.
  struct RecordKeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view key) const { return std::hash<std::string_view>()(key); }
  };
  using RecordMap = std::unordered_map<std::string, LogLocation, RecordKeyHash, std::equal_to<>>;

  void Add(const LogLocation& at);
  void Remove(const LogLocation& at);
  void RemoveMessagesOf(uint64_t queue);
  void RemoveRecordsOf(uint64_t queue);
  // The key of `op` in its queue's RecordMap, in a buffer reused from call to call (copying a
  // segment forward looks up every record in it).
  std::string_view RecordKeyOf(const LogOp& op) const;

  std::map<uint64_t, LogLocation> queues_;
  // Per queue, so that a purge drops one map. Unordered: sends and deletes are the hot path;
  // only start-up needs them in order.
  std::unordered_map<uint64_t, std::unordered_map<uint64_t, MessageEntry>> messages_;
  // Per queue, so that deleting a queue visits only its own records.
  std::unordered_map<uint64_t, RecordMap> records_;
  mutable std::string record_key_;
  std::map<uint32_t, Usage> usage_;
  uint64_t live_bytes_ = 0;
};

}  // namespace postbox::storage
