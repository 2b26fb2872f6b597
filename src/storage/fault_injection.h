// FaultInjectingFileSystem: a FileSystem that passes every call to another one, except the
// calls its rules pick, which fail with a chosen errno (or, for writes, come back short).
//
// Tests use it directly (SetRules) to sweep a failure through every point of a workload. The
// server binary uses it only when the environment names a rules file
// (POSTBOX_TEST_FAULTS_FILE, for end-to-end fault tests): the file is read again whenever it
// changes, so a test arms a fault at the moment it wants and clears it by emptying the file.
//
// A rule is one line (or `;`-separated) of key=value words:
//   op=write path=/log/ after=3 count=1 errno=ENOSPC short=1
//   op     open | write | read | sync | truncate | allocate | rename | remove | mkdir |
//          syncdir | list | * (default *)
//   path   a substring the file's path must contain (default: any path)
//   after  matching calls that succeed before the rule fires (default 0)
//   count  matching calls that fail once it fires; 0 means all later ones (default 0)
//   errno  EIO | ENOSPC | EDQUOT | EROFS | EACCES | ENOENT | EMFILE (default EIO)
//   short  write only: the first failing call writes half its bytes and reports that; the
//          next one fails with errno (a disk that fills up in the middle of a write)
//   delay_ms  instead of failing, the call waits this long and then goes through (a slow
//          disk: start-up tests load a log slowly enough to probe the server meanwhile); the
//          rules after a delaying rule that fires are not consulted for that call
// Counting starts when the rules are set (or the file changes).
//
// Thread-safety: all methods are safe from any thread.
#pragma once

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/file_system.h"

namespace postbox::storage {

struct FaultRule {
  std::string op = "*";
  std::string path;
  uint64_t after = 0;
  uint64_t count = 0;
  int error = EIO;
  bool short_write = false;
  uint64_t delay_ms = 0;  // nonzero: slow the call down instead of failing it
};

// Parses the rule text described above.
Result<std::vector<FaultRule>> ParseFaultRules(std::string_view text);

class FaultInjectingFileSystem final : public FileSystem {
 public:
  explicit FaultInjectingFileSystem(FileSystem& base);

  void SetRules(std::vector<FaultRule> rules);
  // Reads the rules from `path` now and whenever its modification time or size changes. A
  // missing or empty file means no faults; a malformed one is reported once and ignored.
  void WatchRulesFile(std::string path);
  // Calls failed (or shortened) so far.
  uint64_t injected() const { return injected_.load(); }
  // Makes AvailableBytes report `bytes` (a full disk, or one with room again); nullopt: the
  // real figure.
  void SetAvailableBytes(std::optional<uint64_t> bytes);
  // Calls of an operation made so far, failed ones included ("write", "sync", ...).
  uint64_t calls(const std::string& op) const;

  Result<int> Open(const std::string& path, int flags, mode_t mode) override;
  void Close(int fd) override;
  Result<size_t> WriteAt(int fd, const std::string& path, const char* data, size_t size,
                         uint64_t offset) override;
  Result<size_t> ReadAt(int fd, const std::string& path, char* data, size_t size,
                        uint64_t offset) override;
  Status DataSync(int fd, const std::string& path) override;
  Status Truncate(int fd, const std::string& path, uint64_t size) override;
  Status Allocate(int fd, const std::string& path, uint64_t size) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Remove(const std::string& path) override;
  Status MakeDirectory(const std::string& path) override;
  Status SyncDirectory(const std::string& path) override;
  Result<int> OpenDirectory(const std::string& path) override;
  Status SyncOpenDirectory(int fd, const std::string& path) override;
  Result<std::vector<std::string>> ListDirectory(const std::string& path) override;
  Result<uint64_t> AvailableBytes(const std::string& path) override;

 private:
  struct Armed {
    FaultRule rule;
    uint64_t seen = 0;    // matching calls so far
    uint64_t failed = 0;  // calls it failed
    bool shortened = false;
  };
  enum class Verdict { kPass, kFail, kShorten };
  // Counts the call and decides its fate; *error is the errno to fail with. A delaying rule
  // sleeps here (outside the lock) and passes the call.
  Verdict Decide(const char* op, const std::string& path, int* error);
  void ReloadIfChanged();

  FileSystem& base_;
  mutable std::mutex mu_;
  std::vector<Armed> rules_;
  std::vector<std::pair<std::string, uint64_t>> calls_;  // by op name
  std::string rules_file_;
  int64_t rules_file_stamp_ = -1;  // mtime ns + size of the version read
  std::atomic<uint64_t> injected_{0};
  std::optional<uint64_t> available_bytes_;
};

}  // namespace postbox::storage
