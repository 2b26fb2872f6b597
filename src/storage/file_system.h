// FileSystem: every file operation storage makes, behind one interface (as leveldb's Env), so
// that tests can make any of them fail at a chosen point (fault_injection.h) and check that
// nothing acknowledged is lost and nothing unstored is acknowledged.
//
// Operations take the path even when they act on a descriptor: it goes into error messages
// (an operator must know which file failed) and lets a fault rule pick files by name.
// Failures come back as Status: kStorageFull for ENOSPC and EDQUOT (the caller may wait for
// space), kStorageError for everything else, with the operation, path and strerror text.
//
// Thread-safety: implementations are safe to call from any thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace postbox::storage {

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // open(2): returns the descriptor.
  virtual Result<int> Open(const std::string& path, int flags, mode_t mode) = 0;
  virtual void Close(int fd) = 0;
  // pwrite(2) / pread(2): may transfer less than asked (see WriteFully, ReadFully).
  virtual Result<size_t> WriteAt(int fd, const std::string& path, const char* data, size_t size,
                                 uint64_t offset) = 0;
  virtual Result<size_t> ReadAt(int fd, const std::string& path, char* data, size_t size,
                                uint64_t offset) = 0;
  // fdatasync(2). After a failure the kernel may have dropped the dirty pages and cleared the
  // error: never call it again hoping the same data becomes safe (docs/adr/0003).
  virtual Status DataSync(int fd, const std::string& path) = 0;
  virtual Status Truncate(int fd, const std::string& path, uint64_t size) = 0;
  // posix_fallocate(3): reserves the blocks, so later writes into them cannot run out.
  virtual Status Allocate(int fd, const std::string& path, uint64_t size) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual Status Remove(const std::string& path) = 0;
  // mkdir(2) of one level; kOk if it already exists as a directory.
  virtual Status MakeDirectory(const std::string& path) = 0;
  // fsync(2) of a directory: makes the names created, renamed or removed in it durable.
  virtual Status SyncDirectory(const std::string& path) = 0;
  // The same through a descriptor opened once (OpenDirectory): a sync that cannot fail for
  // want of a descriptor, so that any failure it reports is the sync's own.
  virtual Result<int> OpenDirectory(const std::string& path) = 0;
  virtual Status SyncOpenDirectory(int fd, const std::string& path) = 0;
  // The names in a directory (not "." and "..").
  virtual Result<std::vector<std::string>> ListDirectory(const std::string& path) = 0;
  // Bytes an unprivileged writer can still use on the file system holding `path`.
  virtual Result<uint64_t> AvailableBytes(const std::string& path) = 0;
};

// The real file system.
FileSystem& PosixFileSystem();

// The Status for a failed system call: kStorageFull for ENOSPC/EDQUOT, else kStorageError,
// "cannot <what> <path>: <strerror>".
Status IoError(const std::string& what, const std::string& path, int err);

// Writes all of `data` at `offset`, continuing after short writes.
Status WriteFully(FileSystem& fs, int fd, const std::string& path, std::string_view data,
                  uint64_t offset);
// Reads exactly `size` bytes at `offset`; a file that ends first is an error.
Status ReadFully(FileSystem& fs, int fd, const std::string& path, char* out, size_t size,
                 uint64_t offset);
Result<std::string> ReadWholeFile(FileSystem& fs, const std::string& path);

// Creates `path` and any missing parents, syncing the parent of every level it created, so
// that the directory still exists after a power cut.
Status CreateDirectories(FileSystem& fs, const std::string& path);

// Replaces `path` with `contents` so that after a crash it holds either the old or the new
// contents, whole: write a temporary file beside it, sync it, rename it over `path`, sync the
// directory.
Status WriteFileDurably(FileSystem& fs, const std::string& path, std::string_view contents,
                        mode_t mode);

}  // namespace postbox::storage
