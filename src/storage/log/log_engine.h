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
// as many durable batches as the last group had); a lone request pays one fsync.
// A failed write fails every batch in that group and all later ones (after a failed fsync the
// state of the file is unknown), so nothing is acknowledged that is not on disk.
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
// Crash recovery: a frame is all-or-nothing (CRC-32C); the first bad frame of the last segment
// ends the log and is cut off. A bad frame in an earlier segment (which was synced before the
// next began) is corruption: Open fails and says where.
//
// Thread-safety: all methods are safe from any thread.
#pragma once

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

#include "storage/engine.h"
#include "storage/group_answers.h"
#include "storage/log/log_index.h"

namespace postbox::storage {

class LogEngine final : public Engine {
 public:
  static constexpr uint64_t kDefaultSegmentBytes = 32 << 20;
  static constexpr uint64_t kMaxSegmentBytes = 1 << 30;

  // Opens (creating if needed) the log under `dir` and replays it. Without a runner,
  // callbacks run on the commit thread.
  static Result<std::unique_ptr<LogEngine>> Open(const std::string& dir,
                                                 CallbackRunner run_callbacks = nullptr,
                                                 uint64_t segment_bytes = kDefaultSegmentBytes);
  ~LogEngine() override;

  void Commit(WriteBatch batch, Durability durability, Done done) override;
  Status LoadQueues(const QueueVisitor& visit) override;
  Status LoadMessages(const MessageVisitor& visit) override;
  Status LoadRecords(RecordKind kind, const RecordVisitor& visit) override;
  Status Flush() override;

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
  };

  LogEngine(std::string dir, CallbackRunner run_callbacks, uint64_t segment_bytes);
  Status Replay();
  Status OpenActive(bool create);
  void CommitLoop();
  void LingerForDurableBatches(std::unique_lock<std::mutex>& lock);
  std::deque<Pending> TakeGroupLocked();
  // Commit thread, with index_mu_ held: everything below.
  Status WriteGroup(const std::deque<Pending>& group);
  Status RollOverIfFull();
  Status Append(const std::string& frame);
  Status SyncActive();
  Status CollectGarbage();
  Status CopyForward(uint32_t segment);
  class OpReader;
  std::string SegmentPath(uint32_t id, std::string_view suffix = ".log") const;

  const std::string dir_;
  const CallbackRunner run_callbacks_;
  const uint64_t segment_bytes_;

  mutable std::mutex mu_;
  std::condition_variable wake_;
  // Lazy batches wait up to kLazyDelay (or until kLazyBatchLimit queue up, or a durable batch
  // arrives) so that receives and deletes share writes. Durable batches never wait.
  static constexpr std::chrono::milliseconds kLazyDelay{2};
  static constexpr size_t kLazyBatchLimit = 256;
  std::deque<Pending> pending_;
  size_t pending_sync_ = 0;  // durable batches in pending_
  // A group holds at most about this many bytes (but always one batch), whatever piles up
  // while the committer writes: locations in a segment are 32-bit, and a segment ends at the
  // first group after it reaches segment_bytes, so segments stay below about twice that.
  uint64_t GroupByteLimit() const { return segment_bytes_; }
  // Durable batches wait for company (see LingerForDurableBatches).
  static constexpr std::chrono::microseconds kSyncLinger{500};
  static constexpr std::chrono::microseconds kSyncLingerMax{2000};
  static constexpr size_t kSyncGroupTarget = 32;
  size_t linger_target_ = 0;    // while the committer lingers: the durable batches it waits for
  size_t last_group_sync_ = 0;  // durable batches in the last group written
  bool stopping_ = false;
  Status poisoned_;  // set after a failed write; all later commits fail with it

  // The index and the files: the commit thread, and start-up loads.
  mutable std::mutex index_mu_;
  LogIndex index_;
  std::deque<Segment> segments_;  // oldest first; the back one is active
  int active_fd_ = -1;
  bool active_dirty_ = false;  // written since its last fdatasync
  std::string frame_;          // the frame being built, kept for its capacity
  // Segments the log may hold beyond twice its live bytes before copying (see CollectGarbage):
  // 512 MiB with the default segment size.
  static constexpr uint64_t kCopySlack = 16;
  // Files of deleted segments kept for reuse as new ones (see OpenActive).
  static constexpr size_t kMaxSpares = 2;
  std::vector<std::string> spares_;
  uint32_t highest_spare_id_ = 0;  // ids of new segments stay above it

  std::thread committer_;
};

}  // namespace postbox::storage
