// OpenStorage: the storage engine `postbox serve` runs on, chosen by storage.engine.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "storage/engine.h"
#include "storage/file_system.h"
#include "storage/group_answers.h"
#include "storage/log/log_engine.h"

namespace postbox::app {

struct StorageSettings {
  std::string engine = "auto";  // "log", "rocksdb" or "auto"
  storage::LogEngineOptions log;
};

struct OpenedStorage {
  std::unique_ptr<storage::Engine> engine;
  storage::LogEngine* log = nullptr;  // the same engine when it is the log engine (for /metrics)
  std::string description;            // which engine, and where, for the start-up banner
  storage::RecoveryReport recovery;   // what the log engine found and did at open
};

// `settings.engine` "auto" means the log engine (data_dir/log), unless the data directory
// holds only a RocksDB database from an earlier version (data_dir/rocksdb), which then stays
// in use.
Result<OpenedStorage> OpenStorage(StorageSettings settings, const std::string& data_dir);

}  // namespace postbox::app
