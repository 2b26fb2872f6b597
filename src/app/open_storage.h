// OpenStorage: the storage engine `postbox serve` runs on, chosen by storage.engine.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "storage/engine.h"
#include "storage/group_answers.h"

namespace postbox::app {

struct OpenedStorage {
  std::unique_ptr<storage::Engine> engine;
  std::string description;  // which engine, and where, for the start-up banner
};

// `engine` is "log", "rocksdb" or "auto": the log engine (data_dir/log), unless the data
// directory holds only a RocksDB database from an earlier version (data_dir/rocksdb), which
// then stays in use.
Result<OpenedStorage> OpenStorage(const std::string& engine, const std::string& data_dir,
                                  storage::CallbackRunner run_callbacks);

}  // namespace postbox::app
