// The log engine's commit thread: group commit, segments, garbage collection, and the
// start-up loads. Replay is in log_replay.cc, failure states in log_health.cc.
#include "storage/log/log_engine.h"

#include <fcntl.h>

#include <algorithm>
#include <future>
#include <map>

#include "base/clock.h"
#include "storage/log/log_engine_internal.h"

namespace postbox::storage {

std::string LogEngine::SegmentPath(uint32_t id, std::string_view suffix) const {
  char name[32];
  std::snprintf(name, sizeof(name), "%08u%.*s", id, int(suffix.size()), suffix.data());
  return dir_ + "/" + name;
}

Result<std::unique_ptr<LogEngine>> LogEngine::Open(const std::string& dir,
                                                   CallbackRunner run_callbacks,
                                                   uint64_t segment_bytes) {
  LogEngineOptions options;
  options.run_callbacks = std::move(run_callbacks);
  options.segment_bytes = segment_bytes;
  return Open(dir, std::move(options));
}

Result<std::unique_ptr<LogEngine>> LogEngine::Open(const std::string& dir, LogEngineOptions options,
                                                   RecoveryReport* report) {
  // Locations in a segment are 32-bit, and a segment may reach twice segment_bytes.
  if (options.segment_bytes == 0 || options.segment_bytes > kMaxSegmentBytes) {
    return Status(ErrorCode::kInvalidParameterValue,
                  "log segment size must be between 1 byte and 1 GiB");
  }
  if (options.fs == nullptr) options.fs = &PosixFileSystem();
  // The log directory (and any parent it needed) must be durable before the first synced
  // write counts.
  POSTBOX_RETURN_IF_ERROR(CreateDirectories(*options.fs, dir));
  std::unique_ptr<LogEngine> engine(new LogEngine(dir, std::move(options)));
  auto dir_fd = engine->fs().OpenDirectory(dir);
  if (!dir_fd.ok()) return dir_fd.status();
  engine->dir_fd_ = *dir_fd;
  RecoveryReport ignored;
  POSTBOX_RETURN_IF_ERROR(engine->Replay(report != nullptr ? report : &ignored));
  engine->committer_ = std::thread([e = engine.get()] { e->CommitLoop(); });
  return engine;
}

LogEngine::LogEngine(std::string dir, LogEngineOptions options)
    : dir_(std::move(dir)), options_(std::move(options)) {}

LogEngine::~LogEngine() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (committer_.joinable()) committer_.join();
  if (active_fd_ >= 0) {
    // Lazy writes reach the disk at a clean stop too; never after a failed sync (that would
    // be the retry the kernel may answer falsely).
    if (active_dirty_ && state_.load() != StorageState::kFailed) {
      (void)fs().DataSync(active_fd_, SegmentPath(segments_.back().id));
    }
    fs().Close(active_fd_);
  }
  if (dir_fd_ >= 0) fs().Close(dir_fd_);
}

void LogEngine::Commit(WriteBatch batch, Durability durability, Done done) {
  const size_t bytes = batch.ApproximateBytes();  // outside the lock the committer takes
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    // Wake the committer for a durable batch, to start the lazy delay, or when enough lazy
    // work piled up; otherwise let lazy batches gather (each wake-up costs a context switch).
    // While it lingers for durable batches, only enough of them wake it early.
    // A lazy batch someone waits for (a receive or delete to answer) wakes it at once and
    // cuts any lingering short: its wait is a client's latency.
    const bool awaited = durability == Durability::kLazy && done != nullptr;
    wake = durability == Durability::kSync
               ? linger_target_ == 0 || pending_sync_ + 1 >= linger_target_
               : awaited || pending_.empty() || pending_.size() + 1 >= kLazyBatchLimit;
    if (durability == Durability::kSync) ++pending_sync_;
    if (awaited) ++pending_awaited_;
    pending_.push_back({std::move(batch), durability, std::move(done), false, bytes, {}});
  }
  if (wake) wake_.notify_one();
}

Status LogEngine::Accepts(SpaceUse use) const {
  const StorageState state = state_.load(std::memory_order_relaxed);
  if (state == StorageState::kHealthy) return Status::Ok();
  if (state == StorageState::kFull && use == SpaceUse::kShrinks) return Status::Ok();
  std::lock_guard lock(mu_);
  return RefusalFor(use);
}

StorageHealth LogEngine::Health() const {
  std::lock_guard lock(mu_);
  return {state_.load(), cause_};
}

void LogEngine::CommitLoop() {
  using SteadyClock = std::chrono::steady_clock;
  std::unique_lock lock(mu_);
  auto next_probe = SteadyClock::now() + options_.retry_interval;
  // After a failed write: how many of the batches that were queued behind it are still to be
  // answered. They (a FIFO duplicate waiting for its failed original among them) are refused
  // before any probe may make the engine writable again, however long answering the failed
  // group took.
  size_t queued_behind_failure = 0;
  for (;;) {
    StorageState state = state_.load();
    const bool probing = state == StorageState::kFull || state == StorageState::kStalled;
    const bool writable = state == StorageState::kHealthy || state == StorageState::kFull;
    auto work = [&] { return stopping_ || !pending_.empty() || (writable && !retained_.empty()); };
    if (probing) {
      wake_.wait_until(lock, next_probe, work);
    } else {
      wake_.wait(lock, work);
    }
    // Stopping once everything is written (or refused), what memory already shows included.
    if (stopping_ && pending_.empty() && (retained_.empty() || !writable)) return;
    if (probing && queued_behind_failure == 0 && SteadyClock::now() >= next_probe) {
      lock.unlock();
      StorageState probed;
      {
        std::lock_guard index_lock(index_mu_);
        probed = Probe(state);
      }
      lock.lock();
      if (probed == StorageState::kFailed) {
        retained_.clear();
        retained_bytes_ = 0;
      }
      if (probed != state) SetStateLocked(probed, probed == StorageState::kHealthy ? "" : cause_);
      next_probe = SteadyClock::now() + options_.retry_interval;
      continue;
    }
    if (pending_.empty() && !(writable && !retained_.empty())) continue;
    if (state == StorageState::kHealthy) {
      if (pending_sync_ == 0 && pending_awaited_ == 0 && !stopping_) {
        // Only lazy work nobody waits for: give it a moment to grow into one write with the
        // work that follows.
        wake_.wait_for(lock, kLazyDelay, [this] {
          return stopping_ || pending_sync_ > 0 || pending_awaited_ > 0 ||
                 pending_.size() >= kLazyBatchLimit;
        });
      }
      if (pending_sync_ > 0) LingerForDurableBatches(lock);
    }
    state = state_.load();
    std::deque<Pending> group = TakeGroupLocked();
    queued_behind_failure -= std::min(queued_behind_failure, group.size());
    if (state == StorageState::kHealthy || state == StorageState::kFull) {
      // What memory already shows goes first, so that the log catches up in order.
      for (auto it = retained_.rbegin(); it != retained_.rend(); ++it) {
        group.push_front({std::move(*it), Durability::kLazy, nullptr, false, 0, {}});
      }
      retained_.clear();
      retained_bytes_ = 0;
    }
    std::deque<Pending> writing = Admit(group, state);
    lock.unlock();

    Status written;
    Status synced;
    Status collected;
    bool sync_needed = false;
    bool sync_failed = false;
    if (!writing.empty()) {
      std::lock_guard index_lock(index_mu_);
      written = WriteGroup(writing, &sync_needed);
      sync_failed = !written.ok() && fatal_failure_;
    }
    if (written.ok() && !writing.empty()) {
      // Lazy batches are stored once written (a kill -9 keeps the page cache): answer them
      // before the fsync the durable ones wait for.
      AnswerGroupWhere(writing, run_callbacks(),
                       [](const Pending& p) { return p.durability == Durability::kLazy; });
      if (sync_needed) {
        std::lock_guard index_lock(index_mu_);
        synced = SyncActive();
        sync_failed = !synced.ok();
      }
      if (synced.ok()) {
        std::lock_guard index_lock(index_mu_);
        collected = CollectGarbage();
      }
    }
    Status failure = !written.ok() ? written : synced;
    // A full disk, wherever it showed (the group's write, or copying forward after it): the
    // reserve and the spares go back to the file system so that deletes can be written.
    if (failure.code() == ErrorCode::kStorageFull || collected.code() == ErrorCode::kStorageFull) {
      std::lock_guard index_lock(index_mu_);
      ReleaseSpace();
    }

    lock.lock();
    if (!failure.ok() || !collected.ok()) {
      queued_behind_failure = pending_.size();
      // A healthy engine's first probe comes a whole interval after the failure (a stale
      // schedule would probe at once); one already probing keeps its schedule.
      if (state == StorageState::kHealthy) {
        next_probe = SteadyClock::now() + options_.retry_interval;
      }
    }
    if (!failure.ok()) {
      stats_.write_failures.Add();
      for (Pending& p : writing) p.result = failure;
      EnterFailureLocked(failure, sync_failed, &writing);
    } else if (!collected.ok()) {
      // The group is stored; only the clean-up after it failed.
      stats_.write_failures.Add();
      std::deque<Pending> none;
      EnterFailureLocked(collected, fatal_failure_, &none);
    }
    lock.unlock();
    if (!writing.empty()) stats_.group_batches.Observe(double(writing.size()));
    AnswerGroupWhere(writing, run_callbacks(), [&](const Pending& p) {
      return p.durability == Durability::kSync || !written.ok();
    });
    AnswerGroupWhere(group, run_callbacks(), [](const Pending&) { return true; });
    lock.lock();
  }
}

std::deque<LogEngine::Pending> LogEngine::TakeGroupLocked() {
  std::deque<Pending> group;
  uint64_t bytes = 0;
  while (!pending_.empty() &&
         (group.empty() || bytes + pending_.front().bytes <= GroupByteLimit())) {
    bytes += pending_.front().bytes;
    if (pending_.front().durability == Durability::kSync) --pending_sync_;
    if (pending_.front().durability == Durability::kLazy && pending_.front().done) {
      --pending_awaited_;
    }
    group.push_back(std::move(pending_.front()));
    pending_.pop_front();
  }
  return group;
}

// Moves the batches the state lets through from `group` to the result, in order; the ones
// left in `group` carry their refusal. In kFull, lazy batches (applied in memory already) and
// those that only shrink what is stored go through: that is what the reserve is for.
std::deque<LogEngine::Pending> LogEngine::Admit(std::deque<Pending>& group, StorageState state) {
  std::deque<Pending> admitted;
  std::deque<Pending> refused;
  for (Pending& p : group) {
    const bool applied = p.durability == Durability::kLazy || p.batch.applied_in_memory();
    const SpaceUse use = p.batch.space_use();
    const bool pass = state == StorageState::kHealthy ||
                      (state == StorageState::kFull && (applied || use == SpaceUse::kShrinks));
    if (pass) {
      admitted.push_back(std::move(p));
      continue;
    }
    p.result = RefusalFor(use);
    stats_.refused_batches.Add();
    if (applied && state == StorageState::kStalled) Retain(p.batch);
    refused.push_back(std::move(p));
  }
  group = std::move(refused);
  return admitted;
}

// Under load, durable batches arrive every few microseconds, and each fsync costs the one
// core about 100-200 µs of CPU plus a hand-over between the I/O and commit threads. So the
// committer lingers while more keep coming (like PostgreSQL's commit_delay): until as many
// durable batches wait as the last group had (at most kSyncGroupTarget), kSyncLingerMax has
// passed, or kSyncLinger passes with no new durable batch. A lone client (each request waiting
// for the previous answer) never waits, and neither do a few clients once all are back.
// Measured in alternating runs (docs/research/throughput.md).
void LogEngine::LingerForDurableBatches(std::unique_lock<std::mutex>& lock) {
  using SteadyClock = std::chrono::steady_clock;
  // Clients wait for their answers before they send again: the last group's batches are the
  // ones coming back.
  const size_t target = std::min(last_group_sync_, kSyncGroupTarget);
  last_group_sync_ = pending_sync_;
  if (target < 2 || pending_sync_ >= target || pending_awaited_ > 0) return;
  const auto deadline = SteadyClock::now() + kSyncLingerMax;
  linger_target_ = target;
  while (!stopping_ && pending_sync_ < target && pending_awaited_ == 0) {
    const size_t seen = pending_sync_;
    const auto until = std::min(SteadyClock::now() + kSyncLinger, deadline);
    wake_.wait_until(lock, until,
                     [&] { return stopping_ || pending_sync_ >= target || pending_awaited_ > 0; });
    if (pending_sync_ == seen || SteadyClock::now() >= deadline) break;
  }
  linger_target_ = 0;
  last_group_sync_ = pending_sync_;
}

Status LogEngine::WriteGroup(std::deque<Pending>& group, bool* sync_needed) {
  fatal_failure_ = false;
  // After a roll-over whose next segment could not be opened, or a failed write that could
  // not be cut off, nothing is written until that is mended (Probe does it first).
  if (cut_pending_) return Status(ErrorCode::kStorageError, cause_for_cut_);
  if (active_fd_ < 0) POSTBOX_RETURN_IF_ERROR(OpenActive(/*create=*/true));
  POSTBOX_RETURN_IF_ERROR(RollOverIfFull());
  frame_.clear();
  staged_.clear();
  const size_t frame_start = BeginFrame(frame_);
  const uint64_t base = segments_.back().size;
  const uint32_t segment = segments_.back().id;
  for (const auto& p : group) {
    *sync_needed = *sync_needed || p.durability == Durability::kSync;
    for (const auto& op : p.batch.ops()) {
      const LogOp view = ViewOf(op);
      const uint64_t offset = base + frame_.size();
      const size_t size = AppendLogOp(view, frame_);
      staged_.push_back({view, LogLocation{segment, uint32_t(offset), uint32_t(size)}});
    }
  }
  if (frame_.size() > kFrameHeaderBytes) {
    FinishFrame(frame_, frame_start, segment);
    POSTBOX_RETURN_IF_ERROR(Append(frame_));
  }
  // Only what is written enters the index: a failed write leaves it as it was.
  for (const auto& [op, at] : staged_) index_.Apply(op, at);
  *sync_needed = *sync_needed && active_dirty_;
  return Status::Ok();
}

// Appends at the active segment's end. A failed (or short, then failed) write is cut off the
// file again, so that nothing of it can ever be read back; if even the cut fails, writing
// stops until a probe makes it.
Status LogEngine::Append(const std::string& frame) {
  const std::string path = SegmentPath(segments_.back().id);
  const uint64_t end = segments_.back().size;
  Status s = WriteFully(fs(), active_fd_, path, frame, end);
  if (!s.ok()) {
    if (!fs().Truncate(active_fd_, path, end).ok()) {
      cut_pending_ = true;
      cause_for_cut_ = "a failed write could not be cut off " + path + ": " + s.message();
    }
    return s;
  }
  segments_.back().size += frame.size();
  stats_.bytes_written.Add(frame.size());
  stats_.log_bytes.Add(int64_t(frame.size()));
  active_dirty_ = true;
  return Status::Ok();
}

Status LogEngine::SyncActive() {
  const int64_t start = StopwatchMicros();
  Status s = fs().DataSync(active_fd_, SegmentPath(segments_.back().id));
  stats_.sync_seconds.ObserveMicros(StopwatchMicros() - start);
  if (!s.ok()) {
    fatal_failure_ = true;
    return s;
  }
  active_dirty_ = false;
  return Status::Ok();
}

Status LogEngine::SyncDirectory() {
  Status s = fs().SyncOpenDirectory(dir_fd_, dir_);
  if (!s.ok()) fatal_failure_ = true;
  return s;
}

// A full active segment gets its end frame and is synced (so that only the last segment can
// ever have a torn tail) and closed; the next one begins.
Status LogEngine::RollOverIfFull() {
  if (segments_.back().size < options_.segment_bytes) return Status::Ok();
  POSTBOX_RETURN_IF_ERROR(EndActive());
  // If this fails, the ended segment stays the last one (replay then begins a new one too),
  // and the next write tries again.
  return OpenActive(/*create=*/true);
}

Status LogEngine::EndActive() {
  frame_.clear();
  AppendEndFrame(frame_, segments_.back().id);
  POSTBOX_RETURN_IF_ERROR(Append(frame_));
  POSTBOX_RETURN_IF_ERROR(SyncActive());
  fs().Close(active_fd_);
  active_fd_ = -1;
  return Status::Ok();
}

// Opens the back segment for writing at its end, or begins the next one in a spare file or
// a new one.
Status LogEngine::OpenActive(bool create) {
  if (!create) {
    const std::string path = SegmentPath(segments_.back().id);
    auto fd = fs().Open(path, O_WRONLY, 0644);
    if (!fd.ok()) return fd.status();
    active_fd_ = *fd;
    active_dirty_ = false;
    // What an earlier process wrote lazily is in the page cache only: make it durable before
    // anything synced after it counts.
    return SyncActive();
  }
  const uint32_t id = std::max(segments_.empty() ? 0 : segments_.back().id, highest_spare_id_) + 1;
  const std::string path = SegmentPath(id);
  int flags = O_WRONLY;
  if (!spares_.empty()) {
    // Overwriting a file's blocks in place, fdatasync has no size or allocation to journal:
    // about half the CPU and latency of syncing an append (docs/research/throughput.md).
    POSTBOX_RETURN_IF_ERROR(fs().Rename(spares_.back(), path));
    spares_.pop_back();
  } else {
    // Not O_EXCL: a retry after a failed attempt may find the file it created.
    flags |= O_CREAT;
  }
  auto fd = fs().Open(path, flags, 0644);
  if (!fd.ok()) return fd.status();
  // A new file's name must be durable before anything synced into it counts.
  if (Status s = SyncDirectory(); !s.ok()) {
    fs().Close(*fd);
    return s;
  }
  segments_.push_back({id, 0});
  active_fd_ = *fd;
  active_dirty_ = false;
  return Status::Ok();
}

Status LogEngine::CollectGarbage() {
  bool copied = false;
  const bool full = state_.load() != StorageState::kHealthy;
  while (segments_.size() > 1) {
    const uint32_t oldest = segments_.front().id;
    const LogIndex::Usage usage = index_.UsageOf(oldest);
    if (usage.entries > 0) {
      uint64_t total = 0;
      for (const Segment& s : segments_) total += s.size;
      // Copy forward only when the log is more than twice what is live, plus kCopySlack
      // segments: long-lived entries (a backlog, FIFO deduplication records that live five
      // minutes) are copied each time the log turns over that much, so a small slack copies
      // them over and over (with two segments, copying took a tenth of the core after the
      // FIFO benchmark). One copy per group write, so that writes go on between copies.
      // On a full disk, space matters more: a segment that is at most half live is copied
      // (from the reserve given back) so that the dead segments behind it can go.
      const uint64_t limit = 2 * index_.live_bytes() + kCopySlack * options_.segment_bytes;
      const bool worth = full ? usage.bytes * 2 <= segments_.front().size : total > limit;
      if (copied || !worth) break;
      POSTBOX_RETURN_IF_ERROR(CopyForward(oldest));
      copied = true;
      stats_.segments_copied.Add();
      if (index_.UsageOf(oldest).entries > 0) {
        // A broken invariant, not a disk fault: stop writing rather than copy it again and
        // again (a restart rebuilds the index from the log).
        fatal_failure_ = true;
        return Status(ErrorCode::kStorageError, "log segment " + SegmentPath(oldest) +
                                                    " still has live entries after "
                                                    "copying them forward");
      }
    }
    // The deletes and later puts that emptied it must be durable before its puts go.
    if (active_dirty_) POSTBOX_RETURN_IF_ERROR(SyncActive());
    POSTBOX_RETURN_IF_ERROR(RemoveSegment(oldest));
  }
  stats_.live_bytes.Set(int64_t(index_.live_bytes()));
  return Status::Ok();
}

// Deletes the oldest segment, keeping its file as a spare while there is room for one (and
// the disk is not full: then space matters more than cheap syncs).
Status LogEngine::RemoveSegment(uint32_t id) {
  const std::string path = SegmentPath(id);
  if (spares_.size() < kMaxSpares && state_.load() == StorageState::kHealthy) {
    const std::string spare = SegmentPath(id, kSpareSuffix);
    POSTBOX_RETURN_IF_ERROR(fs().Rename(path, spare));
    spares_.push_back(spare);
  } else {
    POSTBOX_RETURN_IF_ERROR(fs().Remove(path));
  }
  POSTBOX_RETURN_IF_ERROR(SyncDirectory());
  stats_.log_bytes.Add(-int64_t(segments_.front().size));
  index_.ForgetSegment(id);
  segments_.pop_front();
  return Status::Ok();
}

// Appends the live puts of `segment` again, as one frame, with each message's current state.
Status LogEngine::CopyForward(uint32_t segment) {
  auto bytes = ReadWholeFile(fs(), SegmentPath(segment));
  if (!bytes.ok()) return bytes.status();
  POSTBOX_RETURN_IF_ERROR(RollOverIfFull());
  frame_.clear();
  staged_.clear();
  const size_t frame_start = BeginFrame(frame_);
  const uint64_t base = segments_.back().size;
  const uint32_t active = segments_.back().id;
  std::vector<LogOp> copies;
  auto scanned = ForEachOp(*bytes, segment, [&](const LogOp& op, const LogLocation& at) {
    MessageState current;
    if (!index_.IsLive(op, at, &current)) return;
    LogOp copy = op;
    if (copy.kind == WriteBatch::Kind::kPutMessage) copy.state = current;
    const uint64_t offset = base + frame_.size();
    const size_t size = AppendLogOp(copy, frame_);
    staged_.push_back({copy, LogLocation{active, uint32_t(offset), uint32_t(size)}});
  });
  if (!scanned.ok()) return scanned.status();
  if (frame_.size() == kFrameHeaderBytes) return Status::Ok();
  FinishFrame(frame_, frame_start, active);
  POSTBOX_RETURN_IF_ERROR(Append(frame_));
  // The copies' views point into `bytes`, alive until here.
  for (const auto& [op, at] : staged_) index_.Apply(op, at);
  return SyncActive();
}

// Reads operations by location during a start-up load, keeping each segment open meanwhile.
class LogEngine::OpReader {
 public:
  explicit OpReader(const LogEngine& engine) : engine_(engine) {}
  ~OpReader() {
    for (const auto& [id, fd] : fds_) engine_.fs().Close(fd);
  }
  Status Read(const LogLocation& at, LogOp* op) {
    const std::string path = engine_.SegmentPath(at.segment);
    auto it = fds_.find(at.segment);
    if (it == fds_.end()) {
      auto fd = engine_.fs().Open(path, O_RDONLY, 0);
      if (!fd.ok()) return fd.status();
      it = fds_.emplace(at.segment, *fd).first;
    }
    buffer_.resize(at.size);
    POSTBOX_RETURN_IF_ERROR(
        ReadFully(engine_.fs(), it->second, path, buffer_.data(), at.size, at.offset));
    size_t pos = 0;
    if (!ParseLogOp(buffer_, &pos, op) || pos != buffer_.size()) {
      return Status(ErrorCode::kStorageError,
                    "undecodable operation in " + path + " at byte " + std::to_string(at.offset));
    }
    return Status::Ok();
  }

 private:
  const LogEngine& engine_;
  std::map<uint32_t, int> fds_;
  std::string buffer_;  // the last operation read: its views point here
};

Status LogEngine::LoadQueues(const QueueVisitor& visit) {
  std::lock_guard lock(index_mu_);
  Status status;
  OpReader reader(*this);
  index_.ForEachQueue([&](uint64_t queue, const LogLocation& at) {
    LogOp op;
    if (!status.ok()) return;
    status = reader.Read(at, &op);
    if (status.ok()) visit(queue, op.blob);
  });
  return status;
}

Status LogEngine::LoadMessages(const MessageVisitor& visit) {
  std::lock_guard lock(index_mu_);
  Status status;
  OpReader reader(*this);
  index_.ForEachMessage(
      [&](uint64_t queue, uint64_t seq, const LogLocation& at, const MessageState& state) {
        LogOp op;
        if (!status.ok()) return;
        status = reader.Read(at, &op);
        if (status.ok()) visit(queue, seq, op.blob, state);
      });
  return status;
}

Status LogEngine::LoadRecords(RecordKind kind, const RecordVisitor& visit) {
  std::lock_guard lock(index_mu_);
  Status status;
  OpReader reader(*this);
  index_.ForEachRecord(kind, [&](uint64_t queue, std::string_view key, const LogLocation& at) {
    LogOp op;
    if (!status.ok()) return;
    status = reader.Read(at, &op);
    if (status.ok()) visit(queue, key, op.blob);
  });
  return status;
}

Status LogEngine::Flush() {
  std::promise<Status> promise;
  auto future = promise.get_future();
  // An empty synchronous batch queues behind everything before it and syncs the log. Its
  // callback runs on the commit thread: at shutdown the I/O loop no longer runs callbacks.
  {
    std::lock_guard lock(mu_);
    ++pending_sync_;
    pending_.push_back({WriteBatch(),
                        Durability::kSync,
                        [&promise](Status s) { promise.set_value(s); },
                        true,
                        0,
                        {}});
  }
  wake_.notify_one();
  return future.get();
}

std::vector<uint32_t> LogEngine::segment_ids() const {
  std::lock_guard lock(index_mu_);
  std::vector<uint32_t> ids;
  for (const Segment& s : segments_) ids.push_back(s.id);
  return ids;
}

}  // namespace postbox::storage
