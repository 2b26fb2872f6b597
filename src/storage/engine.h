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
// in a crash: used for receives, visibility changes and deletes, which at-least-once delivery
// tolerates repeating. A lazy batch's `done` runs once it is written (the log engine: in the
// page cache, so a kill -9 keeps it), and with the failure if it could not be: a request is
// never answered 200 for a change storage refused. A lazy UpdateState may be held back longer (the
// RocksDB engine: up to a second, so that a delete soon after makes it moot), so even a process
// kill loses the last second of receives and visibility changes: those messages come back visible
// at once, with their earlier receive count. A durable state of the same message, or a deletion
// committed after it, supersedes it.
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

// What a batch does to the space storage takes: adds data (new messages, configuration) or
// only ends or changes what is there (deletes, a message's new state: a few bytes each). A
// full disk still takes the second kind, so that consumers can delete their way out and
// storage can free space (docs/adr/0003-storage-faults.md).
enum class SpaceUse { kGrows, kShrinks };

// Whether storage can write, and if not, why and what happens next.
enum class StorageState {
  kHealthy,
  kFull,     // the disk filled up: only kShrinks batches are taken until space is free again
  kStalled,  // a write failed: nothing is taken; retried every interval, resumes by itself
  kFailed,   // a sync failed: nothing is taken again; a restart recovers from the log
};
const char* StorageStateName(StorageState state);

struct StorageHealth {
  StorageState state = StorageState::kHealthy;
  std::string cause;  // the failure that led out of kHealthy
};

// Small keyed records that are not messages. FIFO deduplication entries (which must outlive
// the messages they name) and message move tasks belong to a queue: deleting the queue deletes
// them; a purge of the queue's messages keeps them (QueueService::Purge deletes the
// deduplication records itself, in the same batch). SNS topics, subscriptions and deliveries belong
// to no queue (queue id 0).
enum class RecordKind : uint8_t {
  kDeduplication = 1,
  kMoveTask = 2,
  kTopic = 3,
  kSubscription = 4,
  kDelivery = 5,       // deliveries to HTTP/S endpoints and mail waiting to be made (the outbox)
  kEmailIdentity = 6,  // SES identities (verified senders)
  kSmsSetting = 7,     // SMS attributes, opted-out numbers and the month's SMS count per account
  kPlatformApplication = 8,  // SNS mobile push: platform applications
  kPlatformEndpoint = 9,     // and their endpoints (device tokens)
};

class WriteBatch {
 public:
  enum class Kind {
    kPutQueue,
    kDeleteQueue,
    kPutMessage,
    kUpdateState,
    kDeleteMessage,
    kPurge,
    kPutRecord,
    kDeleteRecord
  };
  struct Op {
    Kind kind = Kind::kPutQueue;
    uint64_t queue_id = 0;
    uint64_t seq = 0;
    std::string blob;
    MessageState state;
    RecordKind record_kind = RecordKind::kDeduplication;
    std::string record_key;
  };

  void PutQueue(uint64_t queue_id, std::string blob) {
    Add(Kind::kPutQueue, queue_id).blob = std::move(blob);
  }
  // Deletes the queue record and all of its messages and records.
  void DeleteQueue(uint64_t queue_id) { Add(Kind::kDeleteQueue, queue_id); }
  void PutMessage(uint64_t queue_id, uint64_t seq, std::string blob, MessageState state) {
    Op& op = Add(Kind::kPutMessage, queue_id, seq);
    op.blob = std::move(blob);
    op.state = state;
  }
  void UpdateState(uint64_t queue_id, uint64_t seq, MessageState state) {
    Add(Kind::kUpdateState, queue_id, seq).state = state;
  }
  void DeleteMessage(uint64_t queue_id, uint64_t seq) { Add(Kind::kDeleteMessage, queue_id, seq); }
  // Deletes every message of the queue, keeping the queue and its records.
  void Purge(uint64_t queue_id) { Add(Kind::kPurge, queue_id); }
  void PutRecord(RecordKind kind, uint64_t queue_id, std::string key, std::string blob) {
    Op& op = Add(Kind::kPutRecord, queue_id);
    op.record_kind = kind;
    op.record_key = std::move(key);
    op.blob = std::move(blob);
  }
  void DeleteRecord(RecordKind kind, uint64_t queue_id, std::string key) {
    Op& op = Add(Kind::kDeleteRecord, queue_id);
    op.record_kind = kind;
    op.record_key = std::move(key);
  }

  // The caller changed memory before committing (a purge; every kLazy batch counts as such
  // without being marked). If storage fails to write it, the engine keeps the batch and
  // writes it once it can again, ahead of everything after it, so that the log catches up
  // with memory; the callback still gets the failure. (Batches whose memory changes only
  // after they are stored are simply failed.)
  void MarkAppliedInMemory() { applied_in_memory_ = true; }
  bool applied_in_memory() const { return applied_in_memory_; }
  // Counts as adding data whatever it holds: an empty batch that only orders an answer after
  // one that adds data (a duplicate FIFO send answered after its original) must be refused
  // with it on a full disk.
  void MarkGrowing() { growing_ = true; }
  SpaceUse space_use() const {
    if (growing_) return SpaceUse::kGrows;
    for (const Op& op : ops_) {
      if (op.kind == Kind::kPutQueue || op.kind == Kind::kPutMessage ||
          op.kind == Kind::kPutRecord) {
        return SpaceUse::kGrows;
      }
    }
    return SpaceUse::kShrinks;
  }

  bool empty() const { return ops_.empty(); }
  const std::vector<Op>& ops() const { return ops_; }
  // About the bytes the batch takes once written: its blobs and keys, plus a bound on the
  // fixed fields of each op.
  size_t ApproximateBytes() const {
    size_t bytes = 0;
    for (const Op& op : ops_) bytes += op.blob.size() + op.record_key.size() + kOpOverheadBytes;
    return bytes;
  }
  static constexpr size_t kOpOverheadBytes = 64;

 private:
  Op& Add(Kind kind, uint64_t queue_id, uint64_t seq = 0) {
    Op& op = ops_.emplace_back();
    op.kind = kind;
    op.queue_id = queue_id;
    op.seq = seq;
    return op;
  }

  std::vector<Op> ops_;
  bool applied_in_memory_ = false;
  bool growing_ = false;
};

class Engine {
 public:
  using Done = std::function<void(Status)>;
  using QueueVisitor = std::function<void(uint64_t queue_id, std::string_view blob)>;
  using MessageVisitor = std::function<void(uint64_t queue_id, uint64_t seq, std::string_view blob,
                                            const MessageState& state)>;
  using RecordVisitor =
      std::function<void(uint64_t queue_id, std::string_view key, std::string_view blob)>;

  virtual ~Engine() = default;

  // Applies the batch atomically, in submission order with other batches (except held-back
  // lazy state updates, see above).
  virtual void Commit(WriteBatch batch, Durability durability, Done done) = 0;

  // Start-up scans. Messages come in (queue_id, seq) order.
  virtual Status LoadQueues(const QueueVisitor& visit) = 0;
  virtual Status LoadMessages(const MessageVisitor& visit) = 0;
  // Records of one kind, in (queue_id, key) order.
  virtual Status LoadRecords(RecordKind kind, const RecordVisitor& visit) = 0;

  // Waits until every batch submitted so far is durable. Used at shutdown.
  virtual Status Flush() = 0;

  // Ok when a batch of this kind would be taken now; otherwise the error to answer with
  // (kStorageFull or kServiceUnavailable; for kGrows also kThrottling while storage is behind,
  // see AdmitNewData). Operations that change memory before they store
  // (receives, deletes, visibility changes, purges) ask first and change nothing if refused.
  virtual Status Accepts(SpaceUse use) const = 0;
  virtual StorageHealth Health() const = 0;

  // Asked once before a request's writes that add data (sends, publishes), before anything is
  // claimed or changed: kThrottling when storage is too far behind to take more now
  // (write_admission.h), so that a request is refused whole rather than stored in part.
  // Counts its refusals. Engines without such a bound always admit.
  virtual Status AdmitNewData() { return Status::Ok(); }
};

// Loads every record of `kind` into a service's memory: `apply` returns false for a record it
// cannot use (damage). Any damage is kStorageError ("<n> corrupt <what> record(s)"): a service
// refuses to start on state it cannot read rather than serve without it.
Status LoadRecordsCountingDamage(Engine& engine, RecordKind kind, const char* what,
                                 const std::function<bool(uint64_t queue_id, std::string_view key,
                                                          std::string_view blob)>& apply);

}  // namespace postbox::storage
