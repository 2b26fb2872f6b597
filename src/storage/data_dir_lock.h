// DataDirLock: one process owns a data directory for as long as it runs.
//
// Two servers writing one log would each replay it, take the other's active segment for a
// torn tail, cut it off and write over acknowledged frames. So the server takes an exclusive
// flock(2) on `<data dir>/postbox.lock` before it reads or writes anything else there, and
// writes its PID into the file so that a second one can say who holds it. The kernel releases
// the lock when the process ends, however it ends (kill -9 included): no stale lock files.
//
// Thread-safety: not shared; the owner holds it until exit.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"

namespace postbox::storage {

class DataDirLock {
 public:
  static constexpr const char* kFileName = "postbox.lock";

  // Locks `dir` (which must exist). Fails with kServiceUnavailable naming the directory and,
  // when it can be read, the holder's PID if another process holds it.
  static Result<std::unique_ptr<DataDirLock>> Acquire(const std::string& dir);
  ~DataDirLock();
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace postbox::storage
