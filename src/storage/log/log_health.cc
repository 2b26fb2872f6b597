// The log engine's failure states (docs/adr/0003-storage-faults.md): what a failed write or
// sync leads to, the reserve that lets a full disk still take deletes, and the probe that
// brings the engine back once writing works again.
#include <fcntl.h>
#include <spdlog/spdlog.h>

#include "storage/log/log_engine.h"
#include "storage/log/log_engine_internal.h"

namespace postbox::storage {
namespace {

constexpr const char* kProbeFileName = "probe";
constexpr size_t kProbeBytes = 4096;

std::string MiB(uint64_t bytes) { return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB"; }

}  // namespace

Status LogEngine::RefusalFor(SpaceUse use) const {
  switch (state_.load()) {
    case StorageState::kHealthy:
      return Status::Ok();
    case StorageState::kFull:
      if (use == SpaceUse::kShrinks) return Status::Ok();
      return Status(ErrorCode::kStorageFull,
                    "Storage is full (" + cause_ + "): only deletes are taken until " +
                        MiB(options_.reserve_bytes + options_.segment_bytes) + " are free again.");
    case StorageState::kStalled:
      return Status(ErrorCode::kServiceUnavailable,
                    "Storage cannot write (" + cause_ + "); retrying every " +
                        std::to_string(options_.retry_interval.count()) + " ms.");
    case StorageState::kFailed:
      return Status(ErrorCode::kServiceUnavailable,
                    "Storage failed (" + cause_ + "); restart postbox to recover from its log.");
  }
  return Status(ErrorCode::kInternal, "unknown storage state");
}

void LogEngine::SetStateLocked(StorageState state, std::string cause) {
  const StorageState before = state_.load();
  if (state == before && cause == cause_) return;
  cause_ = std::move(cause);
  state_.store(state);
  if (state == before) return;
  // One line per change of state: the operator's cause and next step, never per request.
  switch (state) {
    case StorageState::kHealthy:
      spdlog::info("event=storage_recovered dir={} was={}", dir_, StorageStateName(before));
      break;
    case StorageState::kFull:
      spdlog::error(
          "event=storage_full dir={} cause=\"{}\" action=\"gave back the reserve and spare "
          "segments; only deletes and receives are taken until {} are free\"",
          dir_, cause_, MiB(options_.reserve_bytes + options_.segment_bytes));
      break;
    case StorageState::kStalled:
      spdlog::error(
          "event=storage_stalled dir={} cause=\"{}\" action=\"answering 503; retrying every "
          "{} ms\"",
          dir_, cause_, options_.retry_interval.count());
      break;
    case StorageState::kFailed:
      spdlog::critical(
          "event=storage_failed dir={} cause=\"{}\" action=\"a failed sync cannot be retried "
          "safely: nothing more is written; restart postbox to recover from the log (nothing "
          "unsynced was acknowledged)\"",
          dir_, cause_);
      break;
  }
}

void LogEngine::Retain(WriteBatch& batch) {
  if (state_.load() == StorageState::kFailed) return;  // a restart rebuilds memory from the log
  retained_bytes_ += batch.ApproximateBytes();
  retained_.push_back(std::move(batch));
  if (retained_bytes_ > kMaxRetainedBytes) {
    // Memory has run too far ahead of a log that cannot write: stop, and let a restart bring
    // memory back to what the log holds.
    retained_.clear();
    retained_bytes_ = 0;
    SetStateLocked(StorageState::kFailed,
                   "more than " + MiB(kMaxRetainedBytes) + " of changes wait for storage");
  }
}

void LogEngine::EnterFailureLocked(const Status& cause, bool sync_failed,
                                   std::deque<Pending>* failed) {
  const StorageState before = state_.load();
  StorageState next = StorageState::kStalled;
  if (sync_failed || before == StorageState::kFailed) {
    next = StorageState::kFailed;
  } else if (cause.code() == ErrorCode::kStorageFull && !cut_pending_) {
    // The reserve was given back (CommitLoop): deletes go on, even if this one did not fit.
    next = StorageState::kFull;
  }
  if (next == StorageState::kFailed) {
    retained_.clear();
    retained_bytes_ = 0;
  } else {
    // Their memory changes happened: the log must still get them, in order.
    for (Pending& p : *failed) {
      if (p.durability == Durability::kLazy || p.batch.applied_in_memory()) Retain(p.batch);
    }
  }
  if (state_.load() != StorageState::kFailed) SetStateLocked(next, cause.message());
}

void LogEngine::ReleaseSpace() {
  if (!reserve_held_ && spares_.empty()) return;
  uint64_t freed = 0;
  if (reserve_held_ && fs().Remove(dir_ + "/" + kReserveFileName).ok()) {
    freed += options_.reserve_bytes;
    reserve_held_ = false;
  }
  for (const std::string& spare : spares_) {
    if (fs().Remove(spare).ok()) freed += options_.segment_bytes;
  }
  spares_.clear();
  spdlog::warn("event=storage_reserve_released dir={} freed=\"about {}\"", dir_, MiB(freed));
}

Status LogEngine::CreateReserve() {
  const std::string path = dir_ + "/" + kReserveFileName;
  auto fd = fs().Open(path, O_WRONLY | O_CREAT, 0600);
  if (!fd.ok()) return fd.status();
  Status s = fs().Allocate(*fd, path, options_.reserve_bytes);
  if (s.ok()) s = fs().DataSync(*fd, path);
  fs().Close(*fd);
  if (s.ok()) s = fs().SyncDirectory(dir_);
  if (!s.ok()) {
    (void)fs().Remove(path);  // whatever it got is better used by the log
    return s;
  }
  reserve_held_ = true;
  return Status::Ok();
}

StorageState LogEngine::Probe(StorageState state) {
  fatal_failure_ = false;
  if (cut_pending_) {
    const std::string path = SegmentPath(segments_.back().id);
    if (!fs().Truncate(active_fd_, path, segments_.back().size).ok()) return state;
    cut_pending_ = false;
  }
  if (state == StorageState::kStalled) {
    // Whatever failed may work again: try a small write and sync of a file of no value (a
    // failed sync here says nothing about the log's own data). A full disk gets the reserve
    // back first.
    Status probed = ProbeWrite();
    if (probed.code() == ErrorCode::kStorageFull) {
      ReleaseSpace();
      probed = ProbeWrite();
    }
    if (!probed.ok()) return state;
  }
  if (active_fd_ < 0) {
    Status opened = OpenActive(/*create=*/true);
    if (opened.code() == ErrorCode::kStorageFull) ReleaseSpace();
    if (!opened.ok()) return fatal_failure_ ? StorageState::kFailed : StorageState::kStalled;
  }
  auto available = fs().AvailableBytes(dir_);
  if (!available.ok()) return state;
  if (*available < options_.reserve_bytes + options_.segment_bytes) {
    ReleaseSpace();
    return StorageState::kFull;
  }
  if (!reserve_held_ && options_.reserve_bytes > 0 && !CreateReserve().ok()) {
    return StorageState::kFull;
  }
  return StorageState::kHealthy;
}

Status LogEngine::ProbeWrite() {
  const std::string path = dir_ + "/" + kProbeFileName;
  auto fd = fs().Open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (!fd.ok()) return fd.status();
  const std::string zeros(kProbeBytes, '\0');
  Status s = WriteFully(fs(), *fd, path, zeros, 0);
  if (s.ok()) s = fs().DataSync(*fd, path);
  fs().Close(*fd);
  (void)fs().Remove(path);
  return s;
}

}  // namespace postbox::storage
