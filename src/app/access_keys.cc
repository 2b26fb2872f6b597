#include "app/access_keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "base/encoding.h"

namespace postbox::app {
namespace {

constexpr char kKeyFileName[] = "credentials.toml";

// AWS's shapes: "AKIA" and 16 upper-case letters and digits; a 40-character secret.
Config::AuthKey NewAdminKey(const std::string& account) {
  constexpr char kIdAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";  // 32: no modulo bias
  constexpr char kSecretAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";  // 64
  Config::AuthKey key;
  key.account = account;
  key.access_key = "AKIA";
  for (unsigned char byte : RandomBytes(16)) key.access_key += kIdAlphabet[byte % 32];
  for (unsigned char byte : RandomBytes(40)) key.secret_key += kSecretAlphabet[byte % 64];
  return key;
}

Status WriteFailure(const std::string& path, int error) {
  return Status(ErrorCode::kStorageError,
                "cannot write the first access key to " + path + ": " + std::strerror(error));
}

// Writes the key file so that a crash leaves either no file or the whole one: a temporary
// file (0600 from its creation), synced, renamed into place, and the directory synced. A
// failure removes the temporary file (it may hold part of the secret).
Status WriteKeyFile(const std::string& data_dir, const Config::AuthKey& key) {
  const std::string path = data_dir + "/" + kKeyFileName;
  const std::string temporary = path + ".tmp";
  const std::string text =
      "# The admin access key postbox made at its first start (auth.mode = \"sigv4\", no key\n"
      "# configured). Keep this file private; delete it to retire the key.\n"
      "[[keys]]\n"
      "access_key = \"" +
      key.access_key +
      "\"\n"
      "secret_key = \"" +
      key.secret_key +
      "\"\n"
      "account = \"" +
      key.account +
      "\"\n"
      "admin = true\n";
  unlink(temporary.c_str());  // left by a start that crashed while writing
  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return WriteFailure(temporary, errno);
  auto fail = [&](int error) {
    close(fd);
    unlink(temporary.c_str());
    return WriteFailure(temporary, error);
  };
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(errno);
    if (n == 0) return fail(EIO);
    written += size_t(n);
  }
  if (fsync(fd) != 0) return fail(errno);
  if (close(fd) != 0) {
    const int error = errno;
    unlink(temporary.c_str());
    return WriteFailure(temporary, error);
  }
  if (rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    unlink(temporary.c_str());
    return WriteFailure(path, error);
  }
  const int dir = open(data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return WriteFailure(data_dir, errno);
  const int synced = fsync(dir) == 0 ? 0 : errno;
  close(dir);
  if (synced != 0) return WriteFailure(data_dir, synced);
  return Status::Ok();
}

}  // namespace

Result<AccessKeySet> GatherAccessKeys(const Config& config, const std::string& data_dir) {
  AccessKeySet set;
  if (config.secret_access_key != Config().secret_access_key) {
    Config::AuthKey key;  // an admin of aws.account_id
    key.access_key = config.access_key_id;
    key.secret_key = config.secret_access_key;
    key.account = config.account_id;
    set.keys.push_back(std::move(key));
  }
  set.keys.insert(set.keys.end(), config.auth_keys.begin(), config.auth_keys.end());
  if (!config.auth_credentials_file.empty()) {
    auto keys = ReadCredentialsFile(config.auth_credentials_file);
    if (!keys.ok()) return keys.status();
    set.keys.insert(set.keys.end(), keys->begin(), keys->end());
  }
  const std::string key_file = data_dir + "/" + kKeyFileName;
  struct stat st {};
  if (stat(key_file.c_str(), &st) == 0) {
    auto keys = ReadCredentialsFile(key_file);
    if (!keys.ok()) return keys.status();
    set.keys.insert(set.keys.end(), keys->begin(), keys->end());
    set.data_dir_file = key_file;
  } else if (errno != ENOENT) {
    // Unreadable is not absent: making a key now would replace the one it holds.
    return Status(ErrorCode::kStorageError,
                  "cannot read " + key_file + ": " + std::strerror(errno));
  } else if (set.keys.empty()) {
    Config::AuthKey key = NewAdminKey(config.account_id);
    POSTBOX_RETURN_IF_ERROR(WriteKeyFile(data_dir, key));
    set.keys.push_back(key);
    set.created = key;
    set.data_dir_file = key_file;
  }
  std::set<std::string> seen;
  for (const Config::AuthKey& key : set.keys) {
    if (key.secret_key == Config().secret_access_key) {
      return Status(ErrorCode::kInvalidParameterValue,
                    "access key " + key.access_key +
                        " uses the published development secret: choose a secret of your own");
    }
    if (!seen.insert(key.access_key).second) {
      return Status(ErrorCode::kInvalidParameterValue,
                    "access key " + key.access_key + " is configured more than once");
    }
  }
  return set;
}

}  // namespace postbox::app
