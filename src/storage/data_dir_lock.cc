#include "storage/data_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace postbox::storage {
namespace {

// The PID the holder wrote, or "" if it cannot be read (it may be writing it right now).
std::string HolderPid(int fd) {
  char text[32] = {};
  ssize_t n = ::pread(fd, text, sizeof(text) - 1, 0);
  if (n <= 0) return "";
  std::string pid(text, size_t(n));
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid.find_first_not_of("0123456789") == std::string::npos ? pid : "";
}

}  // namespace

Result<std::unique_ptr<DataDirLock>> DataDirLock::Acquire(const std::string& dir) {
  const std::string path = dir + "/" + kFileName;
  // Not O_TRUNC: opening must not erase the PID of a holder we are about to find.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status(ErrorCode::kStorageError, "cannot open " + path + ": " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    const std::string holder = err == EWOULDBLOCK ? HolderPid(fd) : "";
    ::close(fd);
    if (err != EWOULDBLOCK) {
      return Status(ErrorCode::kStorageError, "cannot lock " + path + ": " + std::strerror(err));
    }
    return Status(ErrorCode::kServiceUnavailable,
                  "the data directory " + dir + " is in use by another postbox process" +
                      (holder.empty() ? std::string() : " (pid " + holder + ")") +
                      "; only one server may use a data directory at a time");
  }
  // Who holds it, for the message above. Not synced: after a crash the lock is gone anyway.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != ssize_t(pid.size())) {
    const int err = errno;
    ::close(fd);
    return Status(ErrorCode::kStorageError, "cannot write " + path + ": " + std::strerror(err));
  }
  return std::unique_ptr<DataDirLock>(new DataDirLock(fd));
}

DataDirLock::~DataDirLock() { ::close(fd_); }  // closing the descriptor releases the lock

}  // namespace postbox::storage
