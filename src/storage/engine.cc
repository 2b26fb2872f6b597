#include "storage/engine.h"

#include <string>

namespace postbox::storage {

const char* StorageStateName(StorageState state) {
  switch (state) {
    case StorageState::kHealthy:
      return "healthy";
    case StorageState::kFull:
      return "full";
    case StorageState::kStalled:
      return "stalled";
    case StorageState::kFailed:
      return "failed";
  }
  return "unknown";
}

Status LoadRecordsCountingDamage(Engine& engine, RecordKind kind, const char* what,
                                 const std::function<bool(uint64_t queue_id, std::string_view key,
                                                          std::string_view blob)>& apply) {
  size_t corrupt = 0;
  POSTBOX_RETURN_IF_ERROR(
      engine.LoadRecords(kind, [&](uint64_t queue_id, std::string_view key, std::string_view blob) {
        if (!apply(queue_id, key, blob)) ++corrupt;
      }));
  if (corrupt == 0) return Status::Ok();
  return Status(ErrorCode::kStorageError,
                std::to_string(corrupt) + " corrupt " + what + " record(s)");
}

}  // namespace postbox::storage
