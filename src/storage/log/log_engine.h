// LogEngine: the embedded storage engine (the default): an append-only log in segment files.
//
// Every batch is appended to the active segment (log_format.h), never rewritten in place, and
// an in-memory index (log_index.h) says which appended puts are still live. A message sent and
// deleted soon after costs one body write and a 17-byte delete, where a key-value store also
// sorts, flushes and compacts it. Reads happen only at start-up: the hot state lives in the
// queues, so the log is replayed once to rebuild the index, and the blobs are read from it.
//
// Group commit: Commit() only enqueues. One commit thread takes everything queued (up to a
// segment's size), appends it as one frame (one write()) and calls fdatasync when any of it
// is kSync. Under load, many requests share one fsync (the committer lingers, up to 2 ms, for
// as many durable batches as the last group had); a lone request pays one fsync. Lazy
// batches are answered once written, durable ones once synced.
//
// Segments: when the active one passes `segment_bytes`, it gets an end frame and is synced,
// and the next one begins, in the file of a deleted segment when there is one (overwriting
// allocated blocks makes each fsync cheaper; the segment id in every frame's check keeps the
// old frames out).
// The oldest segment is deleted once nothing in it is live. If the log grows past twice its
// live bytes plus 16 segments (a few long-lived messages pin old segments), the oldest
// segment's live puts are appended again, synced, and the segment deleted. Segments go oldest
// first, so a put never stays on disk without the later deletes that cancel it.
//
// Faults (docs/adr/0003-storage-faults.md): a failed write is cut off the file and fails its
// group; batches already applied in memory are kept and written first once writing works
// again. A full disk releases the reserve file (`reserve_bytes` set aside at open) and spare
// segments, and takes only deletes, state updates and lazy batches (kFull) until the file
// system has room for the reserve and a segment again. Any other write failure stops writing
// (kStalled) until a probe write works again. A failed fsync is never retried: the engine
// takes nothing more (kFailed) and a restart recovers from what the log really holds.
//
// Crash recovery (log_replay.cc): a frame is all-or-nothing (CRC-32C). The first bad frame of
// the last segment ends the log and is cut off, and the cut is logged. A bad frame with valid
// frames after it, a bad frame in an earlier segment (which was synced before the next
// began), or a missing segment fails Open with the file and byte, unless `repair` is set:
// then what is readable is kept, copied into new segments, and what was lost is reported.
//
// Thread-safety: all methods are safe from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/metrics.h"
#include "storage/engine.h"
#include "storage/file_system.h"
#include "storage/group_answers.h"
#include "storage/log/log_index.h"

namespace postbox::storage {

struct LogEngineOptions {
  static constexpr uint64_t kDefaultSegmentBytes = 32 << 20;
  static constexpr uint64_t kDefaultReserveBytes = 64 << 20;

  // Where callbacks run; without a runner, on the commit thread.
  CallbackRunner run_callbacks;
  uint64_t segment_bytes = kDefaultSegmentBytes;
  // Space set aside in `reserve` at open, given back when the disk fills up (0: none).
  uint64_t reserve_bytes = kDefaultReserveBytes;
  // How often a full or stalled engine checks whether it can write again.
  std::chrono::milliseconds retry_interval{1000};
  // Open a damaged log anyway: keep what is readable, rewrite it, report what was lost.
  bool repair = false;
  FileSystem* fs = nullptr;  // null: the real one
};

// What Open found and did, for the start-up log.
struct RecoveryReport {
  uint64_t segments = 0;
  uint64_t bytes = 0;
  std::vector<std::string> notes;  // each cut, gap or loss, in words
};

// What the engine has done, for /metrics.
struct LogEngineStats {
  Histogram group_batches{Histogram::SizeBuckets()};  // batches per group write
  Histogram sync_seconds;                             // each fdatasync of the active segment
  Counter bytes_written;
  Counter write_failures;   // failed writes, syncs, renames... (each logged once per state change)
  Counter refused_batches;  // answered without writing: full, stalled or failed
  Counter segments_copied;  // copied forward
  Gauge log_bytes;          // segment bytes on disk
  Gauge live_bytes;         // of which still live
};

class LogEngine final : public Engine {
 public:
  static constexpr uint64_t kDefaultSegmentBytes = LogEngineOptions::kDefaultSegmentBytes;
  static constexpr uint64_t kMaxSegmentBytes = 1 << 30;
  static constexpr const char* kReserveFileName = "reserve";

  // Opens (creating if needed) the log under `dir` and replays it.
  static Result<std::unique_ptr<LogEngine>> Open(const std::string& dir, LogEngineOptions options,
                                                 RecoveryReport* report = nullptr);
  // The defaults, with a callback runner and a segment size (tests).
  static Result<std::unique_ptr<LogEngine>> Open(const std::string& dir,
                                                 CallbackRunner run_callbacks = nullptr,
                                                 uint64_t segment_bytes = kDefaultSegmentBytes);
  ~LogEngine() override;

  void Commit(WriteBatch batch, Durability durability, Done done) override;
  Status LoadQueues(const QueueVisitor& visit) override;
  Status LoadMessages(const MessageVisitor& visit) override;
  Status LoadRecords(RecordKind kind, const RecordVisitor& visit) override;
  Status Flush() override;
  Status Accepts(SpaceUse use) const override;
  StorageHealth Health() const override;

  const LogEngineStats& stats() const { return stats_; }
  // Ids of the segment files on disk, oldest first (for tests).
  std::vector<uint32_t> segment_ids() const;

 private:
  struct Segment {
    uint32_t id;
    uint64_t size;
  };
  struct Pending {
    WriteBatch batch;
    Durability durability;
    Done done;
    bool done_inline = false;  // run `done` on the commit thread even with a runner (Flush)
    size_t bytes = 0;          // WriteBatch::ApproximateBytes
    Status result;             // how it is answered
  };

  LogEngine(std::string dir, LogEngineOptions options);
  FileSystem& fs() const { return *options_.fs; }

  const CallbackRunner& run_callbacks() const { return options_.run_callbacks; }

  // log_replay.cc: start-up.
  Status Replay(RecoveryReport* report);
  // Copies what is live in every segment up to `last` into new segments and deletes them:
  // afterwards the log has neither the damage nor the gap that was found.
  Status RewriteForRepair(uint32_t last, bool last_ended, RecoveryReport* report);

  // log_engine.cc: the commit thread, with index_mu_ held where noted.
  void CommitLoop();
  void LingerForDurableBatches(std::unique_lock<std::mutex>& lock);
  std::deque<Pending> TakeGroupLocked();
  // Moves the batches the state lets through out of `group` and returns them; those left
  // carry their refusal (and are kept for later if memory already shows them).
  std::deque<Pending> Admit(std::deque<Pending>& group, StorageState state);
  // index_mu_: appends the group as one frame. On failure nothing of it is in the index and
  // the file is cut back to where it was. *sync_needed: a durable batch waits for an fsync.
  Status WriteGroup(std::deque<Pending>& group, bool* sync_needed);
  Status RollOverIfFull();
  // Writes the active segment's end frame, syncs and closes it.
  Status EndActive();
  Status OpenActive(bool create);
  Status Append(const std::string& frame);
  // Both note a failure in fatal_failure_: after one, the engine never writes again.
  Status SyncActive();
  Status SyncDirectory();
  Status CollectGarbage();
  Status CopyForward(uint32_t segment);
  Status RemoveSegment(uint32_t id);
  class OpReader;
  std::string SegmentPath(uint32_t id, std::string_view suffix = ".log") const;

  // log_health.cc: leaving and regaining kHealthy.
  // After a failed write or sync: the state that follows, logged once. Keeps `failed`'s
  // batches that were applied in memory. Requires mu_ (not index_mu_).
  void EnterFailureLocked(const Status& cause, bool sync_failed, std::deque<Pending>* failed);
  // index_mu_: gives back the reserve and the spares (a full disk).
  void ReleaseSpace();
  // index_mu_: whether writing works again; moves to kHealthy (or kFull) if so.
  StorageState Probe(StorageState state);
  // Writes, syncs and removes a small file of no value: whether writing works at all.
  Status ProbeWrite();
  Status CreateReserve();
  Status RefusalFor(SpaceUse use) const;  // requires mu_
  void SetStateLocked(StorageState state, std::string cause);
  // Keeps a batch applied in memory for writing once storage can. Requires mu_.
  void Retain(WriteBatch& batch);

  const std::string dir_;
  LogEngineOptions options_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  // Lazy batches wait up to kLazyDelay (or until kLazyBatchLimit queue up, or a durable batch
  // arrives) so that receives and deletes share writes. Durable batches never wait.
  static constexpr std::chrono::milliseconds kLazyDelay{2};
  static constexpr size_t kLazyBatchLimit = 256;
  std::deque<Pending> pending_;
  size_t pending_sync_ = 0;     // durable batches in pending_
  size_t pending_awaited_ = 0;  // lazy batches in pending_ whose callers wait for the write
  // Batches applied in memory that storage failed to write: written first once it can.
  std::deque<WriteBatch> retained_;
  size_t retained_bytes_ = 0;
  // Beyond this, memory has run too far ahead of a stalled log: the engine fails (kFailed)
  // and a restart recovers, rather than hold without bound.
  static constexpr size_t kMaxRetainedBytes = 64 << 20;
  // A group holds at most about this many bytes (but always one batch), whatever piles up
  // while the committer writes: locations in a segment are 32-bit, and a segment ends at the
  // first group after it reaches segment_bytes, so segments stay below about twice that.
  uint64_t GroupByteLimit() const { return options_.segment_bytes; }
  // Durable batches wait for company (see LingerForDurableBatches).
  static constexpr std::chrono::microseconds kSyncLinger{500};
  static constexpr std::chrono::microseconds kSyncLingerMax{2000};
  static constexpr size_t kSyncGroupTarget = 32;
  size_t linger_target_ = 0;    // while the committer lingers: the durable batches it waits for
  size_t last_group_sync_ = 0;  // durable batches in the last group written
  bool stopping_ = false;
  // The state, also readable without mu_ (Accepts is on every receive and delete).
  std::atomic<StorageState> state_{StorageState::kHealthy};
  std::string cause_;  // mu_

  // The index and the files: the commit thread, and start-up loads.
  mutable std::mutex index_mu_;
  LogIndex index_;
  std::deque<Segment> segments_;  // oldest first; the back one is active (when active_fd_ >= 0)
  int dir_fd_ = -1;               // the log directory, open for syncing its entries
  int active_fd_ = -1;            // -1 after a roll-over whose next segment could not be opened
  bool active_dirty_ = false;     // written since its last fdatasync
  bool cut_pending_ = false;      // a failed write may have left bytes past the active's end
  std::string cause_for_cut_;
  // The last failure was a failed sync (or a broken invariant): the engine stops for good.
  bool fatal_failure_ = false;
  std::string frame_;  // the frame being built, kept for its capacity
  // The operations of frame_ and where they go, applied to the index once written.
  std::vector<std::pair<LogOp, LogLocation>> staged_;
  // Segments the log may hold beyond twice its live bytes before copying (see CollectGarbage):
  // 512 MiB with the default segment size.
  static constexpr uint64_t kCopySlack = 16;
  // Files of deleted segments kept for reuse as new ones (see OpenActive).
  static constexpr size_t kMaxSpares = 2;
  std::vector<std::string> spares_;
  uint32_t highest_spare_id_ = 0;  // ids of new segments stay above it
  bool reserve_held_ = false;      // the reserve file exists with its full size

  LogEngineStats stats_;
  std::thread committer_;
};

}  // namespace postbox::storage
