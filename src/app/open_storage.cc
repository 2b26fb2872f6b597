#include "app/open_storage.h"

#include <filesystem>

#include "storage/log/log_engine.h"
#include "storage/rocksdb/rocksdb_engine.h"

namespace postbox::app {

Result<OpenedStorage> OpenStorage(const std::string& engine, const std::string& data_dir,
                                  storage::CallbackRunner run_callbacks) {
  const std::string log_dir = data_dir + "/log";
  const std::string rocksdb_dir = data_dir + "/rocksdb";
  std::error_code ec;
  const bool use_rocksdb =
      engine == "rocksdb" || (engine == "auto" && std::filesystem::exists(rocksdb_dir, ec) &&
                              !std::filesystem::exists(log_dir, ec));
  OpenedStorage out;
  if (use_rocksdb) {
    auto opened = storage::RocksDbEngine::Open(rocksdb_dir, std::move(run_callbacks));
    if (!opened.ok()) return opened.status();
    out.engine = std::move(opened).value();
    out.description = "rocksdb in " + rocksdb_dir;
  } else {
    auto opened = storage::LogEngine::Open(log_dir, std::move(run_callbacks));
    if (!opened.ok()) return opened.status();
    out.engine = std::move(opened).value();
    out.description = "log in " + log_dir;
  }
  return out;
}

}  // namespace postbox::app
