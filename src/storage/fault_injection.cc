#include "storage/fault_injection.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <charconv>
#include <chrono>
#include <thread>
#include <utility>

namespace postbox::storage {
namespace {

constexpr std::string_view kOps[] = {"open",   "write",  "read",  "sync",    "truncate", "allocate",
                                     "rename", "remove", "mkdir", "syncdir", "list",     "*"};

struct ErrnoName {
  std::string_view name;
  int value;
};
constexpr ErrnoName kErrnos[] = {{"EIO", EIO},      {"ENOSPC", ENOSPC}, {"EDQUOT", EDQUOT},
                                 {"EROFS", EROFS},  {"EACCES", EACCES}, {"ENOENT", ENOENT},
                                 {"EMFILE", EMFILE}};

bool ParseCount(std::string_view text, uint64_t* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

Status BadRule(std::string_view word) {
  return Status(ErrorCode::kInvalidParameterValue,
                "fault rule: cannot read '" + std::string(word) + "'");
}

Result<FaultRule> ParseRule(std::string_view line) {
  FaultRule rule;
  size_t pos = 0;
  while (pos < line.size()) {
    size_t start = line.find_first_not_of(" \t\r", pos);
    if (start == std::string_view::npos) break;
    size_t end = line.find_first_of(" \t\r", start);
    if (end == std::string_view::npos) end = line.size();
    const std::string_view word = line.substr(start, end - start);
    pos = end;
    const size_t eq = word.find('=');
    if (eq == std::string_view::npos) return BadRule(word);
    const std::string_view key = word.substr(0, eq);
    const std::string_view value = word.substr(eq + 1);
    if (key == "op") {
      bool known = false;
      for (std::string_view op : kOps) known = known || op == value;
      if (!known) return BadRule(word);
      rule.op = std::string(value);
    } else if (key == "path") {
      rule.path = std::string(value);
    } else if (key == "after") {
      if (!ParseCount(value, &rule.after)) return BadRule(word);
    } else if (key == "count") {
      if (!ParseCount(value, &rule.count)) return BadRule(word);
    } else if (key == "errno") {
      bool known = false;
      for (const auto& e : kErrnos) {
        if (e.name == value) {
          rule.error = e.value;
          known = true;
        }
      }
      if (!known) return BadRule(word);
    } else if (key == "delay_ms") {
      if (!ParseCount(value, &rule.delay_ms)) return BadRule(word);
    } else if (key == "short") {
      rule.short_write = value == "1" || value == "true";
    } else {
      return BadRule(word);
    }
  }
  return rule;
}

}  // namespace

Result<std::vector<FaultRule>> ParseFaultRules(std::string_view text) {
  std::vector<FaultRule> rules;
  while (!text.empty()) {
    const size_t end = text.find_first_of(";\n");
    const std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    auto rule = ParseRule(line);
    if (!rule.ok()) return rule.status();
    rules.push_back(std::move(*rule));
  }
  return rules;
}

FaultInjectingFileSystem::FaultInjectingFileSystem(FileSystem& base) : base_(base) {}

void FaultInjectingFileSystem::SetRules(std::vector<FaultRule> rules) {
  std::lock_guard lock(mu_);
  rules_.clear();
  for (auto& rule : rules) rules_.push_back({std::move(rule)});
}

void FaultInjectingFileSystem::WatchRulesFile(std::string path) {
  {
    std::lock_guard lock(mu_);
    rules_file_ = std::move(path);
    rules_file_stamp_ = -1;
  }
  ReloadIfChanged();
}

uint64_t FaultInjectingFileSystem::calls(const std::string& op) const {
  std::lock_guard lock(mu_);
  for (const auto& [name, count] : calls_) {
    if (name == op) return count;
  }
  return 0;
}

void FaultInjectingFileSystem::ReloadIfChanged() {
  std::lock_guard lock(mu_);
  if (rules_file_.empty()) return;
  struct stat st {};
  int64_t stamp = 0;  // a missing file: no rules
  if (::stat(rules_file_.c_str(), &st) == 0) {
    stamp = int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec + st.st_size;
  }
  if (stamp == rules_file_stamp_) return;
  rules_file_stamp_ = stamp;
  rules_.clear();
  if (stamp == 0) return;
  // Read through the real file system: the rules file is not subject to its own rules.
  auto text = ReadWholeFile(base_, rules_file_);
  if (!text.ok()) return;
  auto rules = ParseFaultRules(*text);
  if (!rules.ok()) {
    spdlog::error("event=fault_rules_unreadable file={} message=\"{}\"", rules_file_,
                  rules.status().message());
    return;
  }
  for (auto& rule : *rules) rules_.push_back({std::move(rule)});
  spdlog::warn("event=fault_rules_loaded file={} rules={}", rules_file_, rules_.size());
}

FaultInjectingFileSystem::Verdict FaultInjectingFileSystem::Decide(const char* op,
                                                                   const std::string& path,
                                                                   int* error) {
  ReloadIfChanged();
  std::unique_lock lock(mu_);
  bool counted = false;
  for (auto& [name, count] : calls_) {
    if (name == op) {
      ++count;
      counted = true;
    }
  }
  if (!counted) calls_.emplace_back(op, 1);
  for (Armed& armed : rules_) {
    const FaultRule& rule = armed.rule;
    if (rule.op != "*" && rule.op != op) continue;
    if (!rule.path.empty() && path.find(rule.path) == std::string::npos) continue;
    if (armed.seen++ < rule.after) continue;
    if (rule.count != 0 && armed.failed >= rule.count) continue;
    if (rule.delay_ms != 0) {
      ++armed.failed;
      const auto delay = std::chrono::milliseconds(rule.delay_ms);
      lock.unlock();
      std::this_thread::sleep_for(delay);
      return Verdict::kPass;
    }
    *error = rule.error;
    ++injected_;
    if (rule.short_write && std::string_view(op) == "write" && !armed.shortened) {
      armed.shortened = true;  // not counted as a failure: the next write is the one that fails
      return Verdict::kShorten;
    }
    ++armed.failed;
    return Verdict::kFail;
  }
  return Verdict::kPass;
}

Result<int> FaultInjectingFileSystem::Open(const std::string& path, int flags, mode_t mode) {
  int error = 0;
  if (Decide("open", path, &error) != Verdict::kPass) return IoError("open", path, error);
  return base_.Open(path, flags, mode);
}

void FaultInjectingFileSystem::Close(int fd) { base_.Close(fd); }

Result<size_t> FaultInjectingFileSystem::WriteAt(int fd, const std::string& path, const char* data,
                                                 size_t size, uint64_t offset) {
  int error = 0;
  switch (Decide("write", path, &error)) {
    case Verdict::kPass:
      return base_.WriteAt(fd, path, data, size, offset);
    case Verdict::kShorten:
      if (size > 1) return base_.WriteAt(fd, path, data, size / 2, offset);
      break;
    case Verdict::kFail:
      break;
  }
  return IoError("write", path, error);
}

Result<size_t> FaultInjectingFileSystem::ReadAt(int fd, const std::string& path, char* data,
                                                size_t size, uint64_t offset) {
  int error = 0;
  if (Decide("read", path, &error) != Verdict::kPass) return IoError("read", path, error);
  return base_.ReadAt(fd, path, data, size, offset);
}

Status FaultInjectingFileSystem::DataSync(int fd, const std::string& path) {
  int error = 0;
  if (Decide("sync", path, &error) != Verdict::kPass) return IoError("sync", path, error);
  return base_.DataSync(fd, path);
}

Status FaultInjectingFileSystem::Truncate(int fd, const std::string& path, uint64_t size) {
  int error = 0;
  if (Decide("truncate", path, &error) != Verdict::kPass) return IoError("truncate", path, error);
  return base_.Truncate(fd, path, size);
}

Status FaultInjectingFileSystem::Allocate(int fd, const std::string& path, uint64_t size) {
  int error = 0;
  if (Decide("allocate", path, &error) != Verdict::kPass) {
    return IoError("allocate space for", path, error);
  }
  return base_.Allocate(fd, path, size);
}

Status FaultInjectingFileSystem::Rename(const std::string& from, const std::string& to) {
  int error = 0;
  if (Decide("rename", to, &error) != Verdict::kPass) {
    return IoError("rename " + from + " to", to, error);
  }
  return base_.Rename(from, to);
}

Status FaultInjectingFileSystem::Remove(const std::string& path) {
  int error = 0;
  if (Decide("remove", path, &error) != Verdict::kPass) return IoError("remove", path, error);
  return base_.Remove(path);
}

Status FaultInjectingFileSystem::MakeDirectory(const std::string& path) {
  int error = 0;
  if (Decide("mkdir", path, &error) != Verdict::kPass) {
    return IoError("create directory", path, error);
  }
  return base_.MakeDirectory(path);
}

Status FaultInjectingFileSystem::SyncDirectory(const std::string& path) {
  int error = 0;
  if (Decide("syncdir", path, &error) != Verdict::kPass) {
    return IoError("sync directory", path, error);
  }
  return base_.SyncDirectory(path);
}

Result<int> FaultInjectingFileSystem::OpenDirectory(const std::string& path) {
  int error = 0;
  if (Decide("open", path, &error) != Verdict::kPass) return IoError("open directory", path, error);
  return base_.OpenDirectory(path);
}

Status FaultInjectingFileSystem::SyncOpenDirectory(int fd, const std::string& path) {
  int error = 0;
  if (Decide("syncdir", path, &error) != Verdict::kPass) {
    return IoError("sync directory", path, error);
  }
  return base_.SyncOpenDirectory(fd, path);
}

Result<std::vector<std::string>> FaultInjectingFileSystem::ListDirectory(const std::string& path) {
  int error = 0;
  if (Decide("list", path, &error) != Verdict::kPass) return IoError("list", path, error);
  return base_.ListDirectory(path);
}

void FaultInjectingFileSystem::SetAvailableBytes(std::optional<uint64_t> bytes) {
  std::lock_guard lock(mu_);
  available_bytes_ = bytes;
}

Result<uint64_t> FaultInjectingFileSystem::AvailableBytes(const std::string& path) {
  {
    std::lock_guard lock(mu_);
    if (available_bytes_) return *available_bytes_;
  }
  return base_.AvailableBytes(path);
}

}  // namespace postbox::storage
