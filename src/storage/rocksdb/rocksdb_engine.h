// RocksDbEngine: the embedded storage engine (the default), one RocksDB in the data directory.
//
// Key layout: 'Q'+be64(queue) -> queue blob, 'M'+be64(queue)+be64(seq) -> the message's
// state at send time and its blob, 'S'+be64(queue)+be64(seq) -> its current MessageState, once
// it changed, 'R'+kind+be64(queue)+key -> record blob. Keeping later states apart means a
// receive rewrites 20 bytes, not the body.
//
// Group commit: Commit() only enqueues. One commit thread takes everything queued, writes it as
// one RocksDB WriteBatch with a single fsync when any of it is kSync, then runs the callbacks.
// Under load, many requests share one fsync; when idle, a lone request pays one fsync.
// Lazy state updates are held back a second (held_states.h): most messages are deleted by
// then, and their state never needs writing.
// A failed write fails every batch in that group and all later ones (like leveldb: after a
// failed sync the state of the log is unknown), so nothing is acknowledged that is not on disk.
//
// Thread-safety: all methods are safe from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>

#include "storage/engine.h"
#include "storage/group_answers.h"
#include "storage/rocksdb/held_states.h"

namespace rocksdb {
class DB;
class WriteBatch;
}  // namespace rocksdb

namespace postbox::storage {

class RocksDbEngine final : public Engine {
 public:
  // How long lazy state updates are held back (held_states.h).
  static constexpr std::chrono::milliseconds kDefaultStateHoldback{1000};

  // Opens (creating if needed) the database under `dir`. Without a runner, callbacks run on
  // the commit thread.
  static Result<std::unique_ptr<RocksDbEngine>> Open(
      const std::string& dir, CallbackRunner run_callbacks = nullptr,
      std::chrono::milliseconds state_holdback = kDefaultStateHoldback);
  ~RocksDbEngine() override;

  void Commit(WriteBatch batch, Durability durability, Done done) override;
  Status LoadQueues(const QueueVisitor& visit) override;
  Status LoadMessages(const MessageVisitor& visit) override;
  Status LoadRecords(RecordKind kind, const RecordVisitor& visit) override;
  Status Flush() override;
  // After a failed write the engine takes nothing more (kFailed) until a restart: RocksDB's
  // own recovery is not resumed in place.
  Status Accepts(SpaceUse use) const override;
  StorageHealth Health() const override;

  // Number of physical writes and of fsyncs so far (for tests and metrics).
  uint64_t write_count() const;
  uint64_t sync_count() const;

 private:
  RocksDbEngine(std::unique_ptr<rocksdb::DB> db, CallbackRunner run_callbacks,
                std::chrono::milliseconds state_holdback);
  void CommitLoop();
  // Requires state_records_mu_. Lazy state updates go to held_states_ instead of `out`.
  void AddToRocksBatch(const WriteBatch& batch, Durability durability, const MessageRefSet& deleted,
                       HeldStates::Clock::time_point now, rocksdb::WriteBatch* out);
  // Requires state_records_mu_. Writes the state record of a message.
  void PutStateRecord(const MessageRef& ref, const MessageState& state, rocksdb::WriteBatch* out);

  struct Pending {
    WriteBatch batch;
    Durability durability;
    Done done;
    bool done_inline = false;  // run `done` on the commit thread even with a runner (Flush)
    bool write_held = false;   // write every held state with this group (Flush)
    Status result;             // how it is answered
  };
  // Fills `out` with a group's write; returns whether it must be synced.
  bool BuildWrite(const std::deque<Pending>& group, bool write_all_held, rocksdb::WriteBatch* out);

  std::unique_ptr<rocksdb::DB> db_;
  const CallbackRunner run_callbacks_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  // Lazy batches wait up to kLazyDelay (or until kLazyBatchLimit queue up, or a durable batch
  // arrives) so that receives and deletes share writes. Durable batches never wait.
  static constexpr std::chrono::milliseconds kLazyDelay{2};
  static constexpr size_t kLazyBatchLimit = 256;
  std::deque<Pending> pending_;
  size_t pending_sync_ = 0;  // durable batches in pending_
  bool stopping_ = false;
  Status poisoned_;  // set after a failed write; all later commits fail with it
  uint64_t writes_ = 0;
  uint64_t syncs_ = 0;
  // Messages that have an 'S' record, so that deleting one without it writes no tombstone for
  // it. Filled by LoadMessages, then kept by the commit thread.
  std::mutex state_records_mu_;
  MessageRefSet has_state_record_;
  // Lazy state updates held back (see held_states.h). Commit thread only.
  HeldStates held_states_;
  std::thread committer_;
};

}  // namespace postbox::storage
