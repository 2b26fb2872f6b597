#include "app/open_storage.h"

#include <filesystem>

#include "storage/rocksdb/rocksdb_engine.h"

namespace postbox::app {

Result<OpenedStorage> OpenStorage(StorageSettings settings, const std::string& data_dir) {
  const std::string log_dir = data_dir + "/log";
  const std::string rocksdb_dir = data_dir + "/rocksdb";
  std::error_code ec;
  const bool use_rocksdb = settings.engine == "rocksdb" ||
                           (settings.engine == "auto" && std::filesystem::exists(rocksdb_dir, ec) &&
                            !std::filesystem::exists(log_dir, ec));
  OpenedStorage out;
  if (use_rocksdb) {
    auto opened = storage::RocksDbEngine::Open(rocksdb_dir, std::move(settings.log.run_callbacks));
    if (!opened.ok()) return opened.status();
    out.engine = std::move(opened).value();
    out.description = "rocksdb in " + rocksdb_dir;
  } else {
    auto opened = storage::LogEngine::Open(log_dir, std::move(settings.log), &out.recovery);
    if (!opened.ok()) return opened.status();
    out.log = opened->get();
    out.engine = std::move(opened).value();
    out.description = "log in " + log_dir;
  }
  return out;
}

}  // namespace postbox::app
