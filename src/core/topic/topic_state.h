// Internal to the TopicService implementation (topic_service.cc, topic_publish.cc): the state
// kept per topic, and small helpers both files use. Not for other code.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include "base/uuid.h"
#include "core/filter/filter_policy.h"
#include "core/policy/access_policy.h"
#include "core/queue/deduplication_window.h"
#include "core/queue/queue_service.h"
#include "core/topic/topic_service.h"

namespace postbox::core {

inline Status InvalidParameter(const std::string& what) {
  return Status(ErrorCode::kInvalidParameter, "Invalid parameter: " + what);
}

inline bool IsHttp(const std::string& protocol) {
  return protocol == "http" || protocol == "https";
}

inline bool IsEmail(const std::string& protocol) {
  return protocol == "email" || protocol == "email-json";
}

// The topic's Policy, parsed; null when it has none (the default policy grants no other
// account anything) or when a stored one cannot be read (it then grants nothing).
inline std::shared_ptr<const policy::Document> ParsedTopicPolicy(const Topic& topic) {
  auto it = topic.attributes.find("Policy");
  if (it == topic.attributes.end() || it->second.empty()) return nullptr;
  auto parsed = policy::ParsePolicy(it->second, policy::PolicyKind::kResource);
  return parsed.ok() ? *parsed : nullptr;
}

// FIFO topics: what was published under each deduplication id in the last five minutes, so
// that a duplicate gets the original MessageId and SequenceNumber. Kept in memory only: after
// a restart a duplicate gets new ids, but the FIFO queues still deliver it once (their own
// windows are durable). Like a queue's window (deduplication_window.h), an entry has a fixed
// small size: the id's 128-bit hash, the message id's 16 bytes and the sequence's number.
class RecentPublishes {
 public:
  // `key`: HashDeduplicationKey of the publish's deduplication id.
  std::optional<PublishResult> Find(const DeduplicationHash& key, int64_t now_ms) {
    while (!order_.empty() && order_.front().first <= now_ms) {
      auto it = by_id_.find(order_.front().second);
      if (it != by_id_.end() && it->second.expires_ms <= now_ms) by_id_.erase(it);
      order_.pop_front();
    }
    auto it = by_id_.find(key);
    if (it == by_id_.end()) return std::nullopt;
    return PublishResult{FormatUuid(it->second.message_id), SequenceNumber(it->second.sequence)};
  }
  void Remember(const DeduplicationHash& key, const UuidBytes& message_id, uint64_t sequence,
                int64_t now_ms) {
    by_id_[key] = {message_id, sequence, now_ms + kWindowMs};
    order_.emplace_back(now_ms + kWindowMs, key);
  }

 private:
  static constexpr int64_t kWindowMs = 5 * 60 * 1000;
  struct Entry {
    UuidBytes message_id;
    uint64_t sequence = 0;
    int64_t expires_ms = 0;
  };
  std::unordered_map<DeduplicationHash, Entry, DeduplicationHashHasher> by_id_;
  std::deque<std::pair<int64_t, DeduplicationHash>> order_;  // expiry order
};

struct TopicService::TopicState {
  Topic topic;
  // topic.attributes["Policy"] as parsed (null when unset or unreadable): set with `topic`.
  std::shared_ptr<const policy::Document> access_policy;
  std::map<std::string, Subscription> subscriptions;                   // by ARN
  std::map<std::string, std::shared_ptr<const FilterPolicy>> filters;  // by subscription ARN
  std::set<std::string> unusable_filters;  // stored policies that no longer compile: no delivery
  int64_t deleted_subscriptions = 0;
  RecentPublishes deduplication;  // FIFO topics only; guarded by the service's mutex
};

}  // namespace postbox::core
