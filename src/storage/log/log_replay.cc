// The log engine at start-up: replaying the segments into the index, telling a torn tail
// (cut off) from damage (refused, or repaired on request), and creating the reserve.
#include <fcntl.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "storage/log/log_engine.h"
#include "storage/log/log_engine_internal.h"

namespace postbox::storage {
namespace {

uint32_t ReadU32(std::string_view bytes, size_t at) {
  uint32_t v = 0;
  std::memcpy(&v, bytes.data() + at, sizeof(v));
  return v;  // little-endian, like the machines postbox runs on (log_format.cc)
}

// Whether a valid frame of this segment follows the bad one at `bad`: then the bad frame is
// damage in the middle of what was written, not the torn tail of the last write (a crash
// leaves nothing valid after the frame it interrupted: later frames were never written).
bool ValidFrameFollows(std::string_view bytes, size_t bad, uint32_t segment) {
  if (bytes.size() - bad < kFrameHeaderBytes) return false;
  const uint64_t next = uint64_t(bad) + kFrameHeaderBytes + ReadU32(bytes, bad);
  if (next >= bytes.size()) return false;
  bool valid = false;
  const FrameScan scan =
      ParseFrames(bytes.substr(next), segment, [&valid](size_t, std::string_view) {
        valid = true;
        return false;  // one is enough
      });
  return valid || scan.ended;
}

std::string Repairable(const std::string& what) {
  return what +
         ". Start postbox with --repair to keep what the log still holds (the damaged part "
         "is lost and reported), or restore the data directory from a backup.";
}

}  // namespace

std::optional<uint32_t> SegmentIdOf(std::string_view name, std::string_view suffix) {
  if (name.size() <= suffix.size() || !name.ends_with(suffix)) return std::nullopt;
  uint32_t id = 0;
  const char* end = name.data() + name.size() - suffix.size();
  auto [ptr, ec] = std::from_chars(name.data(), end, id);
  if (ec != std::errc() || ptr != end || id == 0) return std::nullopt;
  return id;
}

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

Status LogEngine::Replay(RecoveryReport* report) {
  auto names = fs().ListDirectory(dir_);
  if (!names.ok()) return names.status();
  std::vector<uint32_t> ids;
  for (const std::string& name : *names) {
    if (auto id = SegmentIdOf(name, kSegmentSuffix)) ids.push_back(*id);
    if (auto id = SegmentIdOf(name, kSpareSuffix)) {
      spares_.push_back(dir_ + "/" + name);
      // A new segment must never take a spare's old id: its frames would pass the check.
      highest_spare_id_ = std::max(highest_spare_id_, *id);
    }
  }
  std::sort(ids.begin(), ids.end());

  // Everything up to this segment is rewritten by a repair (0: nothing). Deleting a segment
  // that is not the oldest could bring back puts whose deletes it held, so a repair always
  // rewrites from the oldest segment on.
  uint32_t rewrite_up_to = 0;
  // Segments are numbered one after another from the oldest kept one: a gap is a lost file.
  for (size_t i = 1; i < ids.size(); ++i) {
    if (ids[i] == ids[i - 1] + 1) continue;
    const std::string what = "log segments " + std::to_string(ids[i - 1] + 1) + " to " +
                             std::to_string(ids[i] - 1) + " are missing from " + dir_ + " (found " +
                             std::to_string(ids[i - 1]) + " and " + std::to_string(ids[i]) + ")";
    if (!options_.repair) return Status(ErrorCode::kStorageError, Repairable(what));
    report->notes.push_back(what + ": what they held is lost");
    rewrite_up_to = std::max(rewrite_up_to, ids[i - 1]);
  }

  std::lock_guard lock(index_mu_);
  bool last_ended = false;
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string path = SegmentPath(ids[i]);
    auto bytes = ReadWholeFile(fs(), path);
    if (!bytes.ok()) return bytes.status();
    auto scan = ForEachOp(*bytes, ids[i],
                          [this](const LogOp& op, const LogLocation& at) { index_.Apply(op, at); });
    if (!scan.ok()) return scan.status();
    report->segments += 1;
    report->bytes += bytes->size();
    const bool last = i + 1 == ids.size();
    const size_t end = scan->end;
    const std::string lost = std::to_string(bytes->size() - end) + " bytes after byte " +
                             std::to_string(end) + " of " + path;
    if (!last && !scan->ended) {
      // Only the active segment can be torn: each one was ended and synced before the next.
      const std::string what = "log segment " + path + " is damaged at byte " +
                               std::to_string(end) + " (it was complete and synced)";
      if (!options_.repair) return Status(ErrorCode::kStorageError, Repairable(what));
      report->notes.push_back("repair: kept what precedes the damage, lost " + lost);
      rewrite_up_to = std::max(rewrite_up_to, ids[i]);
    } else if (last && !scan->ended && end < bytes->size()) {
      if (ValidFrameFollows(*bytes, end, ids[i])) {
        const std::string what = "log segment " + path + " has a damaged frame at byte " +
                                 std::to_string(end) + " followed by valid ones";
        if (!options_.repair) return Status(ErrorCode::kStorageError, Repairable(what));
        report->notes.push_back("repair: kept what precedes the damage, lost " + lost);
        rewrite_up_to = ids[i];
      } else {
        // The torn tail of the last write before a crash (never acknowledged), or what a
        // reused file held before: cut off, so that no old frame can ever follow new ones.
        auto fd = fs().Open(path, O_WRONLY, 0);
        if (!fd.ok()) return fd.status();
        Status cut = fs().Truncate(*fd, path, end);
        fs().Close(*fd);
        POSTBOX_RETURN_IF_ERROR(cut);
        report->notes.push_back("cut off the torn tail of the last write before a stop: " + lost);
      }
    }
    segments_.push_back({ids[i], end});
    stats_.log_bytes.Add(int64_t(end));
    last_ended = scan->ended;
  }
  stats_.live_bytes.Set(int64_t(index_.live_bytes()));

  if (rewrite_up_to != 0) {
    POSTBOX_RETURN_IF_ERROR(RewriteForRepair(rewrite_up_to, last_ended, report));
  } else {
    // A last segment that was ended (a crash before its successor existed) takes no more.
    POSTBOX_RETURN_IF_ERROR(OpenActive(/*create=*/segments_.empty() || last_ended));
  }
  if (options_.reserve_bytes > 0) {
    Status reserved = CreateReserve();
    if (reserved.code() == ErrorCode::kStorageFull) {
      // Start anyway, taking only deletes: refusing to start would not free anything.
      std::lock_guard state_lock(mu_);
      SetStateLocked(StorageState::kFull, reserved.message());
    } else {
      POSTBOX_RETURN_IF_ERROR(reserved);
    }
  }
  return Status::Ok();
}

Status LogEngine::RewriteForRepair(uint32_t last, bool last_ended, RecoveryReport* report) {
  // The copies go into a new segment after all the others. A last segment that is kept must
  // be ended first: only the last segment may lack its end frame.
  if (!last_ended && segments_.back().id > last) {
    POSTBOX_RETURN_IF_ERROR(OpenActive(/*create=*/false));
    POSTBOX_RETURN_IF_ERROR(EndActive());
  }
  POSTBOX_RETURN_IF_ERROR(OpenActive(/*create=*/true));
  std::vector<uint32_t> rewritten;
  for (const Segment& s : segments_) {
    if (s.id <= last) rewritten.push_back(s.id);
  }
  for (uint32_t id : rewritten) POSTBOX_RETURN_IF_ERROR(CopyForward(id));
  if (active_dirty_) POSTBOX_RETURN_IF_ERROR(SyncActive());
  // Oldest first, like garbage collection; copying left nothing live in them.
  for (uint32_t id : rewritten) {
    POSTBOX_RETURN_IF_ERROR(fs().Remove(SegmentPath(id)));
    POSTBOX_RETURN_IF_ERROR(SyncDirectory());
    stats_.log_bytes.Add(-int64_t(segments_.front().size));
    index_.ForgetSegment(id);
    segments_.pop_front();
  }
  report->notes.push_back("repair: rewrote " + std::to_string(rewritten.size()) +
                          " segment(s) into new ones; the log is whole again");
  return Status::Ok();
}

}  // namespace postbox::storage
