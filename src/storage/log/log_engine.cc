#include "storage/log/log_engine.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <future>
#include <map>
#include <optional>

namespace postbox::storage {
namespace {

constexpr std::string_view kSegmentSuffix = ".log";
constexpr std::string_view kSpareSuffix = ".spare";

Status IoError(const std::string& what, const std::string& path, int err = errno) {
  return Status(ErrorCode::kStorageError, what + " " + path + ": " + std::strerror(err));
}

// Segment file names are their ids, zero-padded so that they sort: 00000001.log. A spare (a
// deleted segment's file, kept to be reused) keeps its old id: 00000001.spare.
std::optional<uint32_t> IdOf(const std::filesystem::path& file, std::string_view suffix) {
  const std::string name = file.filename().string();
  if (name.size() <= suffix.size() || !name.ends_with(suffix)) return std::nullopt;
  uint32_t id = 0;
  const char* end = name.data() + name.size() - suffix.size();
  auto [ptr, ec] = std::from_chars(name.data(), end, id);
  if (ec != std::errc() || ptr != end || id == 0) return std::nullopt;
  return id;
}

Result<std::string> ReadWholeFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open", path);
  std::string bytes;
  struct stat st {};
  if (::fstat(fd, &st) == 0) bytes.reserve(size_t(st.st_size));
  char chunk[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = IoError("cannot read", path);
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    bytes.append(chunk, size_t(n));
  }
  ::close(fd);
  return bytes;
}

Status SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open directory", dir);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  return rc == 0 ? Status::Ok() : IoError("cannot sync directory", dir, err);
}

// Calls `visit(op, at)` for every operation in the valid frames of `bytes`, a segment's
// contents. Returns where the valid frames end, or an error if a frame that passed its
// checksum does not decode (a bug or a format mismatch, never a torn write).
Result<FrameScan> ForEachOp(std::string_view bytes, uint32_t segment,
                            const std::function<void(const LogOp&, const LogLocation&)>& visit) {
  bool malformed = false;
  const FrameScan scan =
      ParseFrames(bytes, segment, [&](size_t payload_offset, std::string_view payload) {
        size_t pos = 0;
        while (pos < payload.size()) {
          const size_t start = pos;
          LogOp op;
          if (!ParseLogOp(payload, &pos, &op)) {
            malformed = true;
            return false;
          }
          visit(op, LogLocation{segment, uint32_t(payload_offset + start), uint32_t(pos - start)});
        }
        return true;
      });
  if (malformed) {
    return Status(ErrorCode::kStorageError,
                  "log segment " + std::to_string(segment) + " holds an undecodable operation");
  }
  return scan;
}

}  // namespace

std::string LogEngine::SegmentPath(uint32_t id, std::string_view suffix) const {
  char name[32];
  std::snprintf(name, sizeof(name), "%08u%.*s", id, int(suffix.size()), suffix.data());
  return dir_ + "/" + name;
}

Result<std::unique_ptr<LogEngine>> LogEngine::Open(const std::string& dir,
                                                   CallbackRunner run_callbacks,
                                                   uint64_t segment_bytes) {
  // Locations in a segment are 32-bit, and a segment may reach twice segment_bytes.
  if (segment_bytes == 0 || segment_bytes > kMaxSegmentBytes) {
    return Status(ErrorCode::kInvalidParameterValue,
                  "log segment size must be between 1 byte and 1 GiB");
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status(ErrorCode::kStorageError, "cannot create " + dir + ": " + ec.message());
  // The log directory's own name must be durable before the first synced write counts.
  const std::string parent = std::filesystem::path(dir).parent_path().string();
  if (!parent.empty()) POSTBOX_RETURN_IF_ERROR(SyncDirectory(parent));
  std::unique_ptr<LogEngine> engine(new LogEngine(dir, std::move(run_callbacks), segment_bytes));
  if (Status s = engine->Replay(); !s.ok()) return s;
  engine->committer_ = std::thread([e = engine.get()] { e->CommitLoop(); });
  return engine;
}

LogEngine::LogEngine(std::string dir, CallbackRunner run_callbacks, uint64_t segment_bytes)
    : dir_(std::move(dir)),
      run_callbacks_(std::move(run_callbacks)),
      segment_bytes_(segment_bytes) {}

LogEngine::~LogEngine() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (committer_.joinable()) committer_.join();
  if (active_fd_ >= 0) {
    if (active_dirty_ && poisoned_.ok()) (void)::fdatasync(active_fd_);
    ::close(active_fd_);
  }
}

Status LogEngine::Replay() {
  std::vector<uint32_t> ids;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    if (auto id = IdOf(entry.path(), kSegmentSuffix)) ids.push_back(*id);
    if (auto id = IdOf(entry.path(), kSpareSuffix)) {
      spares_.push_back(entry.path().string());
      // A new segment must never take a spare's old id: its frames would pass the check.
      highest_spare_id_ = std::max(highest_spare_id_, *id);
    }
  }
  if (ec) return Status(ErrorCode::kStorageError, "cannot list " + dir_ + ": " + ec.message());
  std::sort(ids.begin(), ids.end());

  std::lock_guard lock(index_mu_);
  bool last_ended = false;
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string path = SegmentPath(ids[i]);
    auto bytes = ReadWholeFile(path);
    if (!bytes.ok()) return bytes.status();
    auto scan = ForEachOp(*bytes, ids[i],
                          [this](const LogOp& op, const LogLocation& at) { index_.Apply(op, at); });
    if (!scan.ok()) return scan.status();
    const bool last = i + 1 == ids.size();
    if (!last && !scan->ended) {
      // Only the active segment can be torn: each one was ended and synced before the next.
      return Status(ErrorCode::kStorageError,
                    "log segment " + path + " is corrupt at byte " + std::to_string(scan->end));
    }
    if (last && !scan->ended && scan->end < bytes->size()) {
      // The torn tail of the last write before a crash (never acknowledged), or what a reused
      // file held before: cut off, so that no old frame can ever follow new ones.
      if (::truncate(path.c_str(), off_t(scan->end)) != 0) return IoError("cannot truncate", path);
    }
    segments_.push_back({ids[i], scan->end});
    last_ended = scan->ended;
  }
  // A last segment that was ended (a crash before its successor existed) takes no more.
  return OpenActive(/*create=*/segments_.empty() || last_ended);
}

// Opens the back segment for writing at its end, or begins the next one in a spare file or
// a new one.
Status LogEngine::OpenActive(bool create) {
  if (create) {
    const uint32_t id =
        std::max(segments_.empty() ? 0 : segments_.back().id, highest_spare_id_) + 1;
    segments_.push_back({id, 0});
  }
  const std::string path = SegmentPath(segments_.back().id);
  int flags = O_WRONLY | O_CLOEXEC;
  if (create && !spares_.empty()) {
    // Overwriting a file's blocks in place, fdatasync has no size or allocation to journal:
    // about half the CPU and latency of syncing an append (docs/research/throughput.md).
    if (::rename(spares_.back().c_str(), path.c_str()) != 0) return IoError("cannot reuse", path);
    spares_.pop_back();
  } else if (create) {
    flags |= O_CREAT | O_EXCL;
  }
  active_fd_ = ::open(path.c_str(), flags, 0644);
  if (active_fd_ < 0) return IoError("cannot open", path);
  active_dirty_ = false;
  // A new file's name must be durable before anything synced into it counts.
  if (create) return SyncDirectory(dir_);
  return ::fdatasync(active_fd_) == 0 ? Status::Ok() : IoError("cannot sync", path);
}

void LogEngine::Commit(WriteBatch batch, Durability durability, Done done) {
  const size_t bytes = batch.ApproximateBytes();  // outside the lock the committer takes
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    // Wake the committer for a durable batch, to start the lazy delay, or when enough lazy
    // work piled up; otherwise let lazy batches gather (each wake-up costs a context switch).
    // While it lingers for durable batches, only enough of them wake it early.
    wake = durability == Durability::kSync
               ? linger_target_ == 0 || pending_sync_ + 1 >= linger_target_
               : pending_.empty() || pending_.size() + 1 >= kLazyBatchLimit;
    if (durability == Durability::kSync) ++pending_sync_;
    pending_.push_back({std::move(batch), durability, std::move(done), false, bytes});
  }
  if (wake) wake_.notify_one();
}

void LogEngine::CommitLoop() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
    if (pending_.empty()) return;  // stopping, and everything written
    if (pending_sync_ == 0 && !stopping_) {
      // Only lazy work: give it a moment to grow into one write with the work that follows.
      wake_.wait_for(lock, kLazyDelay, [this] {
        return stopping_ || pending_sync_ > 0 || pending_.size() >= kLazyBatchLimit;
      });
    }
    if (pending_sync_ > 0) LingerForDurableBatches(lock);
    std::deque<Pending> group = TakeGroupLocked();
    Status result = poisoned_;
    lock.unlock();

    Status later;  // a failure after this group was written fails only the ones after it
    if (result.ok()) {
      std::lock_guard index_lock(index_mu_);
      result = WriteGroup(group);
      if (result.ok()) later = CollectGarbage();
    }

    lock.lock();
    if (!result.ok()) poisoned_ = result;
    if (!later.ok()) poisoned_ = later;
    lock.unlock();
    AnswerGroup(group, result, run_callbacks_);
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
    group.push_back(std::move(pending_.front()));
    pending_.pop_front();
  }
  return group;
}

// Under load, durable batches arrive every few microseconds, and each fsync costs the one
// core about 100-200 µs of CPU plus a hand-over between the I/O and commit threads. So the
// committer lingers while more keep coming (like PostgreSQL's commit_delay): until as many
// durable batches wait as the last group had (at most kSyncGroupTarget), kSyncLingerMax has
// passed, or kSyncLinger passes with no new durable batch. A lone client (each request waiting
// for the previous answer) never waits, and neither do a few clients once all are back.
// Measured in alternating runs (docs/research/throughput.md).
void LogEngine::LingerForDurableBatches(std::unique_lock<std::mutex>& lock) {
  using Clock = std::chrono::steady_clock;
  // Clients wait for their answers before they send again: the last group's batches are the
  // ones coming back.
  const size_t target = std::min(last_group_sync_, kSyncGroupTarget);
  last_group_sync_ = pending_sync_;
  if (target < 2 || pending_sync_ >= target) return;
  const auto deadline = Clock::now() + kSyncLingerMax;
  linger_target_ = target;
  while (!stopping_ && pending_sync_ < target) {
    const size_t seen = pending_sync_;
    const auto until = std::min(Clock::now() + kSyncLinger, deadline);
    wake_.wait_until(lock, until, [&] { return stopping_ || pending_sync_ >= target; });
    if (pending_sync_ == seen || Clock::now() >= deadline) break;
  }
  linger_target_ = 0;
  last_group_sync_ = pending_sync_;
}

Status LogEngine::WriteGroup(const std::deque<Pending>& group) {
  POSTBOX_RETURN_IF_ERROR(RollOverIfFull());
  bool sync = false;
  frame_.clear();
  const size_t frame_start = BeginFrame(frame_);
  const uint64_t base = segments_.back().size;
  const uint32_t segment = segments_.back().id;
  for (const auto& p : group) {
    sync = sync || p.durability == Durability::kSync;
    for (const auto& op : p.batch.ops()) {
      const LogOp view = ViewOf(op);
      const uint64_t offset = base + frame_.size();
      const size_t size = AppendLogOp(view, frame_);
      index_.Apply(view, LogLocation{segment, uint32_t(offset), uint32_t(size)});
    }
  }
  if (frame_.size() > kFrameHeaderBytes) {
    FinishFrame(frame_, frame_start, segment);
    POSTBOX_RETURN_IF_ERROR(Append(frame_));
  }
  if (sync && active_dirty_) {
    POSTBOX_RETURN_IF_ERROR(SyncActive());
  }
  return Status::Ok();
}

Status LogEngine::Append(const std::string& frame) {
  const char* p = frame.data();
  size_t left = frame.size();
  while (left > 0) {
    ssize_t n = ::pwrite(active_fd_, p, left, off_t(segments_.back().size + (p - frame.data())));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("cannot write", SegmentPath(segments_.back().id));
    p += n;
    left -= size_t(n);
  }
  segments_.back().size += frame.size();
  active_dirty_ = true;
  return Status::Ok();
}

Status LogEngine::SyncActive() {
  if (::fdatasync(active_fd_) != 0) return IoError("cannot sync", SegmentPath(segments_.back().id));
  active_dirty_ = false;
  return Status::Ok();
}

// A full active segment gets its end frame and is synced (so that only the last segment can
// ever have a torn tail) and closed; the next one begins.
Status LogEngine::RollOverIfFull() {
  if (segments_.back().size < segment_bytes_) return Status::Ok();
  frame_.clear();
  AppendEndFrame(frame_, segments_.back().id);
  POSTBOX_RETURN_IF_ERROR(Append(frame_));
  POSTBOX_RETURN_IF_ERROR(SyncActive());
  ::close(active_fd_);
  active_fd_ = -1;
  return OpenActive(/*create=*/true);
}

Status LogEngine::CollectGarbage() {
  bool copied = false;
  while (segments_.size() > 1) {
    const uint32_t oldest = segments_.front().id;
    if (index_.UsageOf(oldest).entries > 0) {
      uint64_t total = 0;
      for (const Segment& s : segments_) total += s.size;
      // Copy forward only when the log is more than twice what is live, plus kCopySlack
      // segments: long-lived entries (a backlog, FIFO deduplication records that live five
      // minutes) are copied each time the log turns over that much, so a small slack copies
      // them over and over (with two segments, copying took a tenth of the core after the
      // FIFO benchmark). One copy per group write, so that writes go on between copies.
      const uint64_t limit = 2 * index_.live_bytes() + kCopySlack * segment_bytes_;
      if (copied || total <= limit) break;
      POSTBOX_RETURN_IF_ERROR(CopyForward(oldest));
      copied = true;
      if (index_.UsageOf(oldest).entries > 0) {
        return Status(ErrorCode::kStorageError, "log segment " + SegmentPath(oldest) +
                                                    " still has live entries after "
                                                    "copying them forward");
      }
    }
    // The deletes and later puts that emptied it must be durable before its puts go.
    if (active_dirty_) POSTBOX_RETURN_IF_ERROR(SyncActive());
    const std::string path = SegmentPath(oldest);
    if (spares_.size() < kMaxSpares) {
      const std::string spare = SegmentPath(oldest, kSpareSuffix);
      if (::rename(path.c_str(), spare.c_str()) != 0) return IoError("cannot set aside", path);
      spares_.push_back(spare);
    } else if (::unlink(path.c_str()) != 0) {
      return IoError("cannot delete", path);
    }
    POSTBOX_RETURN_IF_ERROR(SyncDirectory(dir_));
    index_.ForgetSegment(oldest);
    segments_.pop_front();
  }
  return Status::Ok();
}

// Appends the live puts of `segment` again, as one frame, with each message's current state.
Status LogEngine::CopyForward(uint32_t segment) {
  auto bytes = ReadWholeFile(SegmentPath(segment));
  if (!bytes.ok()) return bytes.status();
  POSTBOX_RETURN_IF_ERROR(RollOverIfFull());
  frame_.clear();
  const size_t frame_start = BeginFrame(frame_);
  const uint64_t base = segments_.back().size;
  const uint32_t active = segments_.back().id;
  auto copied = ForEachOp(*bytes, segment, [&](const LogOp& op, const LogLocation& at) {
    MessageState current;
    if (!index_.IsLive(op, at, &current)) return;
    LogOp copy = op;
    if (copy.kind == WriteBatch::Kind::kPutMessage) copy.state = current;
    const uint64_t offset = base + frame_.size();
    const size_t size = AppendLogOp(copy, frame_);
    index_.Apply(copy, LogLocation{active, uint32_t(offset), uint32_t(size)});
  });
  if (!copied.ok()) return copied.status();
  if (frame_.size() == kFrameHeaderBytes) return Status::Ok();
  FinishFrame(frame_, frame_start, active);
  POSTBOX_RETURN_IF_ERROR(Append(frame_));
  return SyncActive();
}

// Reads operations by location during a start-up load, keeping each segment open meanwhile.
class LogEngine::OpReader {
 public:
  explicit OpReader(const LogEngine& engine) : engine_(engine) {}
  ~OpReader() {
    for (const auto& [id, fd] : fds_) ::close(fd);
  }
  Status Read(const LogLocation& at, LogOp* op) {
    const std::string path = engine_.SegmentPath(at.segment);
    auto [it, added] = fds_.try_emplace(at.segment, -1);
    if (added) it->second = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (it->second < 0) {
      Status s = IoError("cannot open", path);
      fds_.erase(it);
      return s;
    }
    const int fd = it->second;
    buffer_.resize(at.size);
    // Retried when a signal interrupts it or it comes back short (neither happens on local
    // files today, but both are allowed); a short read at the end of the file is damage.
    for (size_t got = 0; got < at.size;) {
      ssize_t n = ::pread(fd, buffer_.data() + got, at.size - got, off_t(at.offset + got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return IoError("cannot read", path, n < 0 ? errno : EIO);
      got += size_t(n);
    }
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
    pending_.push_back(
        {WriteBatch(), Durability::kSync, [&promise](Status s) { promise.set_value(s); }, true});
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
