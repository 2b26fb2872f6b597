// storage::Engine: the interface every storage engine implements.
//
// The engine stores records, not indexes: queue metadata as an opaque blob per queue, and
// per message an opaque blob (body, attributes: written once) plus a small MessageState
// (visibility, receive count: rewritten on every receive). The in-memory queue state is
// rebuilt from these at start-up (see core/queue/queue_service.h).
//
// Semantic operations rather than raw keys, so that a PostgreSQL engine shared by several
// nodes can map them to rows (queues, messages) instead of emulating a key-value store.
//
// Durability: Commit(..., Durability::kSync) calls `done` only after the batch is on stable
// storage (fsync'd); many concurrent commits share one fsync (group commit). kLazy batches are
// ordered with all others, may be delayed a few milliseconds to share a write, and may be lost
// in a crash: used for receives, visibility changes
// and deletes, which at-least-once delivery tolerates repeating.
//
// Thread-safety: all methods may be called from any thread. `done` runs on an engine thread
// and must not block.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace postbox::storage {

struct MessageState {
  int64_t visible_at_ms = 0;     // when the message may next be received
  uint32_t receive_count = 0;    // ApproximateReceiveCount
  int64_t first_receive_ms = 0;  // ApproximateFirstReceiveTimestamp, 0 if never received

  bool operator==(const MessageState&) const = default;
};

enum class Durability { kSync, kLazy };

class WriteBatch {
 public:
  enum class Kind { kPutQueue, kDeleteQueue, kPutMessage, kUpdateState, kDeleteMessage, kPurge };
  struct Op {
    Kind kind;
    uint64_t queue_id = 0;
    uint64_t seq = 0;
    std::string blob;
    MessageState state;
  };

  void PutQueue(uint64_t queue_id, std::string blob) {
    ops_.push_back({Kind::kPutQueue, queue_id, 0, std::move(blob), {}});
  }
  // Deletes the queue record and all of its messages.
  void DeleteQueue(uint64_t queue_id) { ops_.push_back({Kind::kDeleteQueue, queue_id, 0, {}, {}}); }
  void PutMessage(uint64_t queue_id, uint64_t seq, std::string blob, MessageState state) {
    ops_.push_back({Kind::kPutMessage, queue_id, seq, std::move(blob), state});
  }
  void UpdateState(uint64_t queue_id, uint64_t seq, MessageState state) {
    ops_.push_back({Kind::kUpdateState, queue_id, seq, {}, state});
  }
  void DeleteMessage(uint64_t queue_id, uint64_t seq) {
    ops_.push_back({Kind::kDeleteMessage, queue_id, seq, {}, {}});
  }
  // Deletes every message of the queue, keeping the queue.
  void Purge(uint64_t queue_id) { ops_.push_back({Kind::kPurge, queue_id, 0, {}, {}}); }

  bool empty() const { return ops_.empty(); }
  const std::vector<Op>& ops() const { return ops_; }

 private:
  std::vector<Op> ops_;
};

class Engine {
 public:
  using Done = std::function<void(Status)>;
  using QueueVisitor = std::function<void(uint64_t queue_id, std::string_view blob)>;
  using MessageVisitor = std::function<void(uint64_t queue_id, uint64_t seq, std::string_view blob,
                                            const MessageState& state)>;

  virtual ~Engine() = default;

  // Applies the batch atomically, in submission order with other batches.
  virtual void Commit(WriteBatch batch, Durability durability, Done done) = 0;

  // Start-up scans. Messages come in (queue_id, seq) order.
  virtual Status LoadQueues(const QueueVisitor& visit) = 0;
  virtual Status LoadMessages(const MessageVisitor& visit) = 0;

  // Waits until every batch submitted so far is durable. Used at shutdown.
  virtual Status Flush() = 0;
};

}  // namespace postbox::storage
