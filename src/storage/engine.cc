#include "storage/engine.h"

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

}  // namespace postbox::storage
