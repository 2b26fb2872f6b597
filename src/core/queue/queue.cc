#include "core/queue/queue.h"

#include "core/queue/receipt_handle.h"

namespace postbox::core {
namespace {

// AWS allows one purge per 60 seconds ("PurgeQueue", SQS API Reference).
constexpr int64_t kPurgeWindowMs = 60'000;

}  // namespace

std::optional<QueueId> QueueId::FromArn(const std::string& arn) {
  // arn:aws:sqs:<region>:<account>:<name>
  std::vector<std::string> parts;
  size_t start = 0;
  for (int i = 0; i < 5; ++i) {
    size_t colon = arn.find(':', start);
    if (colon == std::string::npos) return std::nullopt;
    parts.push_back(arn.substr(start, colon - start));
    start = colon + 1;
  }
  parts.push_back(arn.substr(start));
  if (parts[0] != "arn" || parts[2] != "sqs" || parts[3].empty() || parts[4].empty() ||
      parts[5].empty() || parts[5].find(':') != std::string::npos) {
    return std::nullopt;
  }
  return QueueId{parts[3], parts[4], parts[5]};
}

Queue::Queue(QueueId id, uint64_t storage_id, QueueConfig config, AttributeMap tags,
             int64_t created_seconds, const Clock& clock)
    : id_(std::move(id)),
      storage_id_(storage_id),
      created_seconds_(created_seconds),
      clock_(clock),
      config_(std::move(config)),
      tags_(std::move(tags)),
      last_modified_seconds_(created_seconds) {}

QueueConfig Queue::config() const {
  std::lock_guard lock(mu_);
  return config_;
}

AttributeMap Queue::tags() const {
  std::lock_guard lock(mu_);
  return tags_;
}

int64_t Queue::last_modified_seconds() const {
  std::lock_guard lock(mu_);
  return last_modified_seconds_;
}

void Queue::SetConfig(QueueConfig config, int64_t now_seconds) {
  std::lock_guard lock(mu_);
  config_ = std::move(config);
  last_modified_seconds_ = now_seconds;
}

void Queue::SetTags(AttributeMap tags) {
  std::lock_guard lock(mu_);
  tags_ = std::move(tags);
}

bool Queue::deleted() const {
  std::lock_guard lock(mu_);
  return deleted_;
}

void Queue::MarkDeleted() {
  std::vector<std::function<void()>> waiters;
  {
    std::lock_guard lock(mu_);
    deleted_ = true;
    messages_.clear();
    by_visible_.clear();
    waiters = TakeWaitersLocked();
  }
  for (auto& wake : waiters) wake();
}

uint64_t Queue::ReserveSeqs(size_t count) {
  std::lock_guard lock(mu_);
  uint64_t first = next_seq_;
  next_seq_ += count;
  return first;
}

void Queue::EnsureSeqAbove(uint64_t seq) {
  std::lock_guard lock(mu_);
  if (next_seq_ <= seq) next_seq_ = seq + 1;
}

void Queue::IndexLocked(const Message& m) { by_visible_.emplace(m.state.visible_at_ms, m.seq); }

std::vector<std::function<void()>> Queue::TakeWaitersLocked(size_t limit) {
  // Oldest waiters first (tokens increase). Waking one waiter per new message, not all of
  // them, avoids a thundering herd of long polls that would find nothing.
  std::vector<std::function<void()>> out;
  auto it = waiters_.begin();
  while (it != waiters_.end() && out.size() < limit) {
    out.push_back(std::move(it->second));
    it = waiters_.erase(it);
  }
  return out;
}

void Queue::Insert(std::vector<Message> messages) {
  std::vector<std::function<void()>> waiters;
  {
    std::lock_guard lock(mu_);
    if (deleted_) return;
    for (auto& m : messages) {
      if (m.seq >= next_seq_) next_seq_ = m.seq + 1;
      IndexLocked(m);
      uint64_t seq = m.seq;
      messages_.emplace(seq, std::move(m));
    }
    waiters = TakeWaitersLocked(messages.size());
  }
  for (auto& wake : waiters) wake();
}

Queue::ReceiveOutcome Queue::Receive(const ReceiveOptions& options) {
  ReceiveOutcome out;
  std::lock_guard lock(mu_);
  const int64_t now = clock_.NowMillis();
  const int64_t retention_ms = int64_t(config_.message_retention_period) * 1000;
  const int visibility = options.visibility_timeout.value_or(config_.visibility_timeout);
  const int max_receives = config_.redrive_policy ? config_.redrive_policy->max_receive_count : 0;

  // Re-indexed after the scan, so a VisibilityTimeout of 0 cannot hand out one message twice.
  std::vector<std::pair<int64_t, uint64_t>> reindex;
  auto it = by_visible_.begin();
  while (it != by_visible_.end() && it->first <= now &&
         int(out.received.size()) < options.max_messages) {
    uint64_t seq = it->second;
    it = by_visible_.erase(it);
    auto found = messages_.find(seq);
    if (found == messages_.end()) continue;
    Message& m = found->second;
    if (m.sent_ms + retention_ms <= now) {
      out.expired.push_back(std::move(m));
      messages_.erase(found);
      continue;
    }
    // A message already received maxReceiveCount times moves to the dead-letter queue
    // instead of being delivered again ("Using dead-letter queues", SQS Developer Guide).
    if (max_receives > 0 && int(m.state.receive_count) >= max_receives) {
      out.to_dead_letter.push_back(std::move(m));
      messages_.erase(found);
      continue;
    }
    m.state.receive_count += 1;
    if (m.state.first_receive_ms == 0) m.state.first_receive_ms = now;
    m.state.visible_at_ms = now + int64_t(visibility) * 1000;
    reindex.emplace_back(m.state.visible_at_ms, seq);
    ReceiptHandle handle{storage_id_, seq, m.state.receive_count};
    out.received.push_back({m, handle.Encode()});
  }
  by_visible_.insert(reindex.begin(), reindex.end());
  return out;
}

Result<Queue::Removed> Queue::Delete(const std::string& handle_text) {
  auto handle = ReceiptHandle::Decode(handle_text);
  if (!handle || handle->queue_incarnation != storage_id_) {
    return Status(ErrorCode::kReceiptHandleIsInvalid, "The input receipt handle \"" + handle_text +
                                                          "\" is not a valid receipt handle.");
  }
  std::lock_guard lock(mu_);
  auto found = messages_.find(handle->seq);
  // AWS accepts a stale handle of a message that is already gone: deletes are idempotent.
  if (found == messages_.end()) return Removed{false, handle->seq};
  by_visible_.erase({found->second.state.visible_at_ms, handle->seq});
  messages_.erase(found);
  return Removed{true, handle->seq};
}

Result<std::pair<uint64_t, storage::MessageState>> Queue::ChangeVisibility(
    const std::string& handle_text, int timeout_seconds) {
  auto handle = ReceiptHandle::Decode(handle_text);
  if (!handle || handle->queue_incarnation != storage_id_) {
    return Status(ErrorCode::kReceiptHandleIsInvalid, "The input receipt handle \"" + handle_text +
                                                          "\" is not a valid receipt handle.");
  }
  std::unique_lock lock(mu_);
  const int64_t now = clock_.NowMillis();
  auto found = messages_.find(handle->seq);
  if (found == messages_.end() || found->second.state.receive_count != handle->receive_count) {
    return Status(ErrorCode::kInvalidParameterValue,
                  "Value " + handle_text +
                      " for parameter ReceiptHandle is invalid. Reason: Message does not exist "
                      "or is not available for visibility timeout change.");
  }
  Message& m = found->second;
  if (m.state.visible_at_ms <= now) {
    return Status(ErrorCode::kMessageNotInflight, "Message is not in flight.");
  }
  by_visible_.erase({m.state.visible_at_ms, m.seq});
  m.state.visible_at_ms = now + int64_t(timeout_seconds) * 1000;
  by_visible_.emplace(m.state.visible_at_ms, m.seq);
  std::pair<uint64_t, storage::MessageState> result{m.seq, m.state};
  if (timeout_seconds == 0) {
    // The message is visible again at once: a long-poller may take it.
    auto waiters = TakeWaitersLocked(1);
    lock.unlock();
    for (auto& wake : waiters) wake();
  }
  return result;
}

bool Queue::Purge() {
  std::lock_guard lock(mu_);
  const int64_t now = clock_.MonotonicMillis();
  if (purged_ && now - last_purge_ms_ < kPurgeWindowMs) return false;
  purged_ = true;
  last_purge_ms_ = now;
  messages_.clear();
  by_visible_.clear();
  return true;
}

std::vector<uint64_t> Queue::SweepExpired() {
  std::vector<uint64_t> out;
  std::lock_guard lock(mu_);
  const int64_t cutoff = clock_.NowMillis() - int64_t(config_.message_retention_period) * 1000;
  for (auto it = messages_.begin(); it != messages_.end() && it->second.sent_ms <= cutoff;) {
    by_visible_.erase({it->second.state.visible_at_ms, it->first});
    out.push_back(it->first);
    it = messages_.erase(it);
  }
  return out;
}

QueueCounters Queue::Counters() const {
  QueueCounters c;
  std::lock_guard lock(mu_);
  const int64_t now = clock_.NowMillis();
  for (auto it = by_visible_.upper_bound({now, UINT64_MAX}); it != by_visible_.end(); ++it) {
    auto found = messages_.find(it->second);
    if (found == messages_.end()) continue;
    if (found->second.state.receive_count > 0) {
      ++c.not_visible;
    } else {
      ++c.delayed;
    }
  }
  c.visible = int64_t(by_visible_.size()) - c.not_visible - c.delayed;
  return c;
}

int64_t Queue::NextVisibleAtMillis() const {
  std::lock_guard lock(mu_);
  auto it = by_visible_.upper_bound({clock_.NowMillis(), UINT64_MAX});
  return it == by_visible_.end() ? 0 : it->first;
}

uint64_t Queue::AddWaiter(std::function<void()> wake) {
  std::lock_guard lock(mu_);
  uint64_t token = next_waiter_++;
  waiters_.emplace(token, std::move(wake));
  return token;
}

void Queue::WakeOne() {
  std::vector<std::function<void()>> waiters;
  {
    std::lock_guard lock(mu_);
    waiters = TakeWaitersLocked(1);
  }
  for (auto& wake : waiters) wake();
}

void Queue::RemoveWaiter(uint64_t token) {
  std::lock_guard lock(mu_);
  waiters_.erase(token);
}

}  // namespace postbox::core
