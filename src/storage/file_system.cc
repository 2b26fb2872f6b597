#include "storage/file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace postbox::storage {
namespace {

class Posix final : public FileSystem {
 public:
  Result<int> Open(const std::string& path, int flags, mode_t mode) override {
    int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    if (fd < 0) return IoError("open", path, errno);
    return fd;
  }

  void Close(int fd) override { ::close(fd); }

  Result<size_t> WriteAt(int fd, const std::string& path, const char* data, size_t size,
                         uint64_t offset) override {
    for (;;) {
      ssize_t n = ::pwrite(fd, data, size, off_t(offset));
      if (n >= 0) return size_t(n);
      if (errno != EINTR) return IoError("write", path, errno);
    }
  }

  Result<size_t> ReadAt(int fd, const std::string& path, char* data, size_t size,
                        uint64_t offset) override {
    for (;;) {
      ssize_t n = ::pread(fd, data, size, off_t(offset));
      if (n >= 0) return size_t(n);
      if (errno != EINTR) return IoError("read", path, errno);
    }
  }

  Status DataSync(int fd, const std::string& path) override {
    // Not retried on EINTR either: fdatasync does not fail that way on Linux, and a retry
    // after any failure could report success for data that was dropped.
    return ::fdatasync(fd) == 0 ? Status::Ok() : IoError("sync", path, errno);
  }

  Status Truncate(int fd, const std::string& path, uint64_t size) override {
    return ::ftruncate(fd, off_t(size)) == 0 ? Status::Ok() : IoError("truncate", path, errno);
  }

  Status Allocate(int fd, const std::string& path, uint64_t size) override {
    int err = ::posix_fallocate(fd, 0, off_t(size));  // returns the error, sets no errno
    return err == 0 ? Status::Ok() : IoError("allocate space for", path, err);
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) == 0) return Status::Ok();
    return IoError("rename " + from + " to", to, errno);
  }

  Status Remove(const std::string& path) override {
    return ::unlink(path.c_str()) == 0 ? Status::Ok() : IoError("remove", path, errno);
  }

  Status MakeDirectory(const std::string& path) override {
    if (::mkdir(path.c_str(), 0755) == 0) return Status::Ok();
    const int err = errno;
    struct stat st {};
    if (err == EEXIST && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      return Status::Ok();
    }
    return IoError("create directory", path, err);
  }

  Status SyncDirectory(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return IoError("open directory", path, errno);
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    return rc == 0 ? Status::Ok() : IoError("sync directory", path, err);
  }

  Result<int> OpenDirectory(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return IoError("open directory", path, errno);
    return fd;
  }

  Status SyncOpenDirectory(int fd, const std::string& path) override {
    return ::fsync(fd) == 0 ? Status::Ok() : IoError("sync directory", path, errno);
  }

  Result<std::vector<std::string>> ListDirectory(const std::string& path) override {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return IoError("list", path, errno);
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* entry = ::readdir(dir)) {
      std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    const int err = errno;
    ::closedir(dir);
    if (err != 0) return IoError("list", path, err);
    return names;
  }

  Result<uint64_t> AvailableBytes(const std::string& path) override {
    struct statvfs st {};
    if (::statvfs(path.c_str(), &st) != 0) return IoError("measure free space of", path, errno);
    return uint64_t(st.f_bavail) * uint64_t(st.f_frsize);
  }
};

}  // namespace

FileSystem& PosixFileSystem() {
  static Posix* posix = new Posix();  // never destroyed: used until the process ends
  return *posix;
}

Status IoError(const std::string& what, const std::string& path, int err) {
  const ErrorCode code =
      err == ENOSPC || err == EDQUOT ? ErrorCode::kStorageFull : ErrorCode::kStorageError;
  return Status(code, "cannot " + what + " " + path + ": " + std::strerror(err));
}

Status WriteFully(FileSystem& fs, int fd, const std::string& path, std::string_view data,
                  uint64_t offset) {
  while (!data.empty()) {
    auto written = fs.WriteAt(fd, path, data.data(), data.size(), offset);
    if (!written.ok()) return written.status();
    // pwrite returns 0 only for a zero-length write; anything else would loop for ever.
    if (*written == 0) return IoError("write", path, EIO);
    data.remove_prefix(*written);
    offset += *written;
  }
  return Status::Ok();
}

Status ReadFully(FileSystem& fs, int fd, const std::string& path, char* out, size_t size,
                 uint64_t offset) {
  for (size_t got = 0; got < size;) {
    auto n = fs.ReadAt(fd, path, out + got, size - got, offset + got);
    if (!n.ok()) return n.status();
    if (*n == 0) return IoError("read (it ends early)", path, EIO);
    got += *n;
  }
  return Status::Ok();
}

Result<std::string> ReadWholeFile(FileSystem& fs, const std::string& path) {
  auto fd = fs.Open(path, O_RDONLY, 0);
  if (!fd.ok()) return fd.status();
  std::string bytes;
  char chunk[1 << 16];
  for (uint64_t offset = 0;;) {
    auto n = fs.ReadAt(*fd, path, chunk, sizeof(chunk), offset);
    if (!n.ok()) {
      fs.Close(*fd);
      return n.status();
    }
    if (*n == 0) break;
    bytes.append(chunk, *n);
    offset += *n;
  }
  fs.Close(*fd);
  return bytes;
}

Status CreateDirectories(FileSystem& fs, const std::string& path) {
  const std::filesystem::path target = std::filesystem::path(path).lexically_normal();
  std::filesystem::path parent = target.parent_path();
  std::error_code ec;
  if (std::filesystem::is_directory(target, ec)) return Status::Ok();
  if (!parent.empty() && parent != target) {
    POSTBOX_RETURN_IF_ERROR(CreateDirectories(fs, parent.string()));
  }
  POSTBOX_RETURN_IF_ERROR(fs.MakeDirectory(target.string()));
  // The new name lives in the parent directory: durable only once the parent is synced.
  return fs.SyncDirectory(parent.empty() ? "." : parent.string());
}

Status WriteFileDurably(FileSystem& fs, const std::string& path, std::string_view contents,
                        mode_t mode) {
  const std::string temporary = path + ".tmp";
  // A temporary file left by a crash keeps its old mode through O_TRUNC: start afresh, so that
  // `mode` (0600 for a private key) is what the file gets.
  (void)fs.Remove(temporary);
  auto fd = fs.Open(temporary, O_WRONLY | O_CREAT | O_EXCL, mode);
  if (!fd.ok()) return fd.status();
  Status s = WriteFully(fs, *fd, temporary, contents, 0);
  if (s.ok()) s = fs.DataSync(*fd, temporary);
  fs.Close(*fd);
  if (s.ok()) s = fs.Rename(temporary, path);
  if (!s.ok()) {
    (void)fs.Remove(temporary);  // best effort: the next attempt truncates it anyway
    return s;
  }
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return fs.SyncDirectory(dir.empty() ? "." : dir);
}

}  // namespace postbox::storage
