#include "core/queue/deduplication_window.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace postbox::core {

std::string DeduplicationEntry::Encode() const {
  return nlohmann::json{
      {"message_id", message_id}, {"sequence_number", sequence_number}, {"expires_ms", expires_ms}}
      .dump();
}

std::optional<DeduplicationEntry> DeduplicationEntry::Decode(std::string_view blob) {
  nlohmann::json j = nlohmann::json::parse(blob, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("message_id") || !j["message_id"].is_string() ||
      !j.contains("expires_ms") || !j["expires_ms"].is_number_integer()) {
    return std::nullopt;
  }
  DeduplicationEntry e;
  e.message_id = j["message_id"].get<std::string>();
  e.sequence_number = j.value("sequence_number", "");
  e.expires_ms = j["expires_ms"].get<int64_t>();
  return e;
}

std::optional<DeduplicationEntry> DeduplicationWindow::Claim(const std::string& key,
                                                             const DeduplicationEntry& entry,
                                                             int64_t now_ms) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = entries_.try_emplace(key, entry);
  if (!inserted) {
    if (it->second.expires_ms > now_ms) return it->second;
    it->second = entry;  // the old entry expired but was not swept yet
  }
  expiry_order_.emplace_back(entry.expires_ms, key);
  return std::nullopt;
}

void DeduplicationWindow::Forget(const std::string& key, const std::string& message_id) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.message_id == message_id) entries_.erase(it);
}

void DeduplicationWindow::Restore(std::string key, DeduplicationEntry entry, int64_t now_ms) {
  if (entry.expires_ms <= now_ms) return;
  std::lock_guard lock(mu_);
  int64_t expires = entry.expires_ms;
  entries_[key] = std::move(entry);
  // Records load in key order, not expiry order: keep the deque sorted.
  auto pos = std::upper_bound(expiry_order_.begin(), expiry_order_.end(),
                              std::pair<int64_t, std::string>(expires, key));
  expiry_order_.emplace(pos, expires, std::move(key));
}

std::vector<std::string> DeduplicationWindow::SweepExpired(int64_t now_ms) {
  std::vector<std::string> removed;
  std::lock_guard lock(mu_);
  while (!expiry_order_.empty() && expiry_order_.front().first <= now_ms) {
    auto& [expires, key] = expiry_order_.front();
    auto it = entries_.find(key);
    // A key claimed again later has a newer expiry; only its latest claim removes it.
    if (it != entries_.end() && it->second.expires_ms == expires) {
      entries_.erase(it);
      removed.push_back(std::move(key));
    }
    expiry_order_.pop_front();
  }
  return removed;
}

size_t DeduplicationWindow::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace postbox::core
