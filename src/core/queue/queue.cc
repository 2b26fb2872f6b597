#include "core/queue/queue.h"

#include <algorithm>
#include <atomic>
#include <iterator>

#include "core/queue/receipt_handle.h"

namespace postbox::core {
namespace {

// AWS allows one purge per 60 seconds ("PurgeQueue", SQS API Reference).
constexpr int64_t kPurgeWindowMs = 60'000;

// True when `message` has no other owner. A receiver drops its reference without the queue's
// lock; the acquire fence pairs with that release, so its reads of the message are finished
// before the caller writes to it. Nobody can take a new reference without the lock.
bool SoleOwner(const std::shared_ptr<Message>& message) {
  if (message.use_count() != 1) return false;
  std::atomic_thread_fence(std::memory_order_acquire);
  return true;
}

// The message of an unlinked entry, moved out unless a receiver still holds it.
Message Take(std::shared_ptr<Message> message) {
  return SoleOwner(message) ? std::move(*message) : Message(*message);
}

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
      fifo_(config.fifo_queue),
      created_seconds_(created_seconds),
      clock_(clock),
      config_(std::move(config)),
      tags_(std::move(tags)),
      last_modified_seconds_(created_seconds) {}

QueueConfig Queue::config() const {
  std::lock_guard lock(mu_);
  return config_;
}

std::shared_ptr<const policy::Document> Queue::access_policy() const {
  std::lock_guard lock(mu_);
  return config_.policy;
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
    ClearLocked();
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

void Queue::IndexLocked(const Message& m) {
  if (!fifo_) {
    by_visible_.emplace(m.state.visible_at_ms, m.seq);
    return;
  }
  std::set<uint64_t>& group = groups_[m.message_group_id];
  if (!group.empty() && *group.begin() < m.seq) {
    group.insert(m.seq);  // behind the group's first message: not receivable yet
    return;
  }
  if (!group.empty()) {
    // Only happens when a message comes back (a failed move): it is the new first message.
    const Message& head = *messages_.at(*group.begin());
    by_visible_.erase({head.state.visible_at_ms, head.seq});
  }
  group.insert(m.seq);
  by_visible_.emplace(m.state.visible_at_ms, m.seq);
}

void Queue::ClearLocked() {
  messages_.clear();
  by_visible_.clear();
  groups_.clear();
  attempts_.clear();
  hidden_.clear();
  hidden_in_flight_ = 0;
  hidden_delayed_ = 0;
}

void Queue::TrackLocked(const Message& m, int64_t now) {
  if (m.state.visible_at_ms <= now) return;
  const bool in_flight = m.state.receive_count > 0;
  if (hidden_.insert({m.state.visible_at_ms, m.seq, in_flight}).second) {
    ++(in_flight ? hidden_in_flight_ : hidden_delayed_);
  }
}

void Queue::UntrackLocked(int64_t visible_at_ms, uint64_t seq, uint32_t receive_count) {
  const bool in_flight = receive_count > 0;
  if (hidden_.erase({visible_at_ms, seq, in_flight}) > 0) {
    --(in_flight ? hidden_in_flight_ : hidden_delayed_);
  }
}

void Queue::SettleLocked(int64_t now) const {
  while (!hidden_.empty() && hidden_.begin()->visible_at_ms <= now) {
    --(hidden_.begin()->in_flight ? hidden_in_flight_ : hidden_delayed_);
    hidden_.erase(hidden_.begin());
  }
}

Message& Queue::MutableLocked(MessageMap::iterator it) {
  if (!SoleOwner(it->second)) it->second = std::make_shared<Message>(*it->second);
  return *it->second;
}

std::shared_ptr<Message> Queue::UnlinkLocked(MessageMap::iterator it, int64_t now,
                                             bool* next_ready) {
  const Message& m = *it->second;
  UntrackLocked(m.state.visible_at_ms, m.seq, m.state.receive_count);
  bool indexed = by_visible_.erase({m.state.visible_at_ms, m.seq}) > 0;
  if (fifo_) {
    auto group = groups_.find(m.message_group_id);
    if (group != groups_.end()) {
      group->second.erase(m.seq);
      if (!indexed) {
        // Not the group's indexed first message (or a receive is working on this group and
        // settles it afterwards): nothing else to update.
      } else if (group->second.empty()) {
        groups_.erase(group);
      } else {
        const Message& next = *messages_.at(*group->second.begin());
        by_visible_.emplace(next.state.visible_at_ms, next.seq);
        if (next_ready) *next_ready = next.state.visible_at_ms <= now;
      }
    }
  }
  std::shared_ptr<Message> out = std::move(it->second);
  messages_.erase(it);
  return out;
}

void Queue::ReindexLocked(const Message& m, int64_t old_visible_at, int64_t now) {
  if (by_visible_.erase({old_visible_at, m.seq}) > 0) {
    by_visible_.emplace(m.state.visible_at_ms, m.seq);
  }
  UntrackLocked(old_visible_at, m.seq, m.state.receive_count);
  TrackLocked(m, now);
}

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
  InsertUnlessPurgedSince(purge_generation(), std::move(messages));
}

void Queue::InsertUnlessPurgedSince(uint64_t purge_generation, std::vector<Message> messages) {
  std::vector<std::function<void()>> waiters;
  {
    std::lock_guard lock(mu_);
    // Checked under mu_, which Purge holds while it counts and clears: no purge slips in
    // between the check and the insert.
    if (deleted_ || purge_generation_.load() != purge_generation) return;
    const int64_t now = clock_.NowMillis();
    for (auto& m : messages) {
      if (m.seq >= next_seq_) next_seq_ = m.seq + 1;
      uint64_t seq = m.seq;
      auto [it, inserted] = messages_.try_emplace(seq);
      if (!inserted) continue;
      it->second = std::make_shared<Message>(std::move(m));
      IndexLocked(*it->second);
      TrackLocked(*it->second, now);
    }
    waiters = TakeWaitersLocked(messages.size());
  }
  for (auto& wake : waiters) wake();
}

Queue::Fate Queue::DeliverOrRemoveLocked(MessageMap::iterator it, int64_t now, int visibility,
                                         ReceiveOutcome* out) {
  const Message& current = *it->second;
  const int64_t retention_ms = int64_t(config_.message_retention_period) * 1000;
  const int max_receives = config_.redrive_policy ? config_.redrive_policy->max_receive_count : 0;
  if (current.sent_ms + retention_ms <= now) {
    out->expired.push_back(Take(UnlinkLocked(it, now)));
    return Fate::kRemoved;
  }
  // A message already received maxReceiveCount times moves to the dead-letter queue
  // instead of being delivered again ("Using dead-letter queues", SQS Developer Guide).
  if (max_receives > 0 && int(current.state.receive_count) >= max_receives) {
    out->to_dead_letter.push_back(Take(UnlinkLocked(it, now)));
    return Fate::kRemoved;
  }
  // Visible, but perhaps still in hidden_ if no one has read the counters since.
  UntrackLocked(current.state.visible_at_ms, current.seq, current.state.receive_count);
  Message& m = MutableLocked(it);
  m.state.receive_count += 1;
  if (m.state.first_receive_ms == 0) m.state.first_receive_ms = now;
  m.state.visible_at_ms = now + int64_t(visibility) * 1000;
  TrackLocked(m, now);
  ReceiptHandle handle{storage_id_, m.seq, m.state.receive_count};
  out->received.push_back({it->second, handle.Encode()});
  return Fate::kDelivered;
}

int Queue::ReceiveRoomLocked(const ReceiveOptions& options, int visibility, int64_t now) {
  if (options.max_in_flight <= 0 || visibility == 0) return options.max_messages;
  SettleLocked(now);  // hidden_in_flight_ now counts exactly the messages in flight
  const int64_t room = options.max_in_flight - hidden_in_flight_;
  if (room <= 0) {
    stats_.over_limit.Add();
    at_limit_ = true;
    return 0;
  }
  return int(std::min<int64_t>(options.max_messages, room));
}

Queue::ReceiveOutcome Queue::Receive(const ReceiveOptions& options) {
  std::lock_guard lock(mu_);
  const int64_t now = clock_.NowMillis();
  if (fifo_) return ReceiveFifoLocked(options, now);
  ReceiveOutcome out;
  const int visibility = options.visibility_timeout.value_or(config_.visibility_timeout);
  const int max_messages = ReceiveRoomLocked(options, visibility, now);
  if (max_messages == 0 && options.max_messages > 0) {
    out.status = Status(ErrorCode::kOverLimit,
                        "The maximum number of in flight messages (" +
                            std::to_string(options.max_in_flight) +
                            ") is reached: delete or release some before receiving more.");
    return out;
  }
  // Messages are large: reserved so that growth never moves them (at most 10 per receive).
  out.received.reserve(size_t(std::clamp(max_messages, 0, 10)));
  // Re-indexed after the scan, so a VisibilityTimeout of 0 cannot hand out one message twice.
  std::vector<std::pair<int64_t, uint64_t>> reindex;
  auto it = by_visible_.begin();
  while (it != by_visible_.end() && it->first <= now && int(out.received.size()) < max_messages) {
    uint64_t seq = it->second;
    it = by_visible_.erase(it);
    auto found = messages_.find(seq);
    if (found == messages_.end()) continue;
    if (DeliverOrRemoveLocked(found, now, visibility, &out) == Fate::kDelivered) {
      reindex.emplace_back(found->second->state.visible_at_ms, seq);
    }
  }
  by_visible_.insert(reindex.begin(), reindex.end());
  return out;
}

Queue::ReceiveOutcome Queue::ReceiveFifoLocked(const ReceiveOptions& options, int64_t now) {
  ReceiveOutcome out;
  if (RetryAttemptLocked(options, now, &out)) return out;  // the retry's answer or error
  const int visibility = options.visibility_timeout.value_or(config_.visibility_timeout);
  // At the in-flight limit AWS answers a FIFO receive with no messages, not an error.
  const int max_messages = ReceiveRoomLocked(options, visibility, now);
  out.received.reserve(size_t(std::clamp(max_messages, 0, 10)));

  // Groups whose first message was taken: their new first message is indexed after the scan.
  std::vector<std::string> touched;
  auto it = by_visible_.begin();
  while (it != by_visible_.end() && it->first <= now && int(out.received.size()) < max_messages) {
    auto head = messages_.find(it->second);
    it = by_visible_.erase(it);
    if (head == messages_.end()) continue;
    const std::string group_id = head->second->message_group_id;
    std::set<uint64_t>& group = groups_[group_id];
    // Take the group's messages in order, as many as fit, up to the first one in flight.
    // The group's first message is unindexed here, so removing messages neither indexes the
    // next one nor erases the group (see UnlinkLocked); the loop after this one settles both.
    for (auto seq = group.begin(); seq != group.end() && int(out.received.size()) < max_messages;) {
      auto found = messages_.find(*seq);
      if (found->second->state.visible_at_ms > now) break;
      ++seq;  // before DeliverOrRemoveLocked may erase the current one from the group
      DeliverOrRemoveLocked(found, now, visibility, &out);
    }
    touched.push_back(group_id);
  }
  for (const auto& group_id : touched) {
    auto group = groups_.find(group_id);
    if (group == groups_.end()) continue;
    if (group->second.empty()) {
      groups_.erase(group);
      continue;
    }
    const Message& first = *messages_.at(*group->second.begin());
    by_visible_.emplace(first.state.visible_at_ms, first.seq);
  }
  if (!options.receive_request_attempt_id.empty() && !out.received.empty()) {
    ReceiveAttempt attempt{now + kReceiveAttemptWindowMs, {}};
    for (const auto& r : out.received) {
      attempt.delivered.push_back(
          {r.message->seq, r.message->state.receive_count, r.message->state.visible_at_ms});
    }
    attempts_[options.receive_request_attempt_id] = std::move(attempt);
  }
  return out;
}

bool Queue::RetryAttemptLocked(const ReceiveOptions& options, int64_t now, ReceiveOutcome* out) {
  if (options.receive_request_attempt_id.empty()) return false;
  auto attempt = attempts_.find(options.receive_request_attempt_id);
  if (attempt == attempts_.end()) return false;
  if (attempt->second.expires_ms <= now) {  // past its window (SweepExpired drops the rest)
    attempts_.erase(attempt);
    return false;
  }
  // Retryable only while none of the messages it returned was modified: deleted, received
  // again, or given a new visibility timeout. Otherwise AWS refuses the retry.
  for (const auto& d : attempt->second.delivered) {
    auto found = messages_.find(d.seq);
    if (found == messages_.end() || found->second->state.receive_count != d.receive_count ||
        found->second->state.visible_at_ms != d.visible_at_ms) {
      out->status = Status(ErrorCode::kInvalidParameterValue,
                           "Value " + options.receive_request_attempt_id +
                               " for parameter ReceiveRequestAttemptId is invalid. Reason: The "
                               "receiveRequestAttemptId is not valid anymore since the receive "
                               "call is not retryable.");
      return true;
    }
  }
  // The retry resets the visibility timeout, as AWS does.
  const int visibility = options.visibility_timeout.value_or(config_.visibility_timeout);
  for (auto& d : attempt->second.delivered) {
    auto entry = messages_.find(d.seq);  // present: checked above
    Message& m = MutableLocked(entry);
    int64_t old_visible_at = m.state.visible_at_ms;
    m.state.visible_at_ms = now + int64_t(visibility) * 1000;
    ReindexLocked(m, old_visible_at, now);
    d.visible_at_ms = m.state.visible_at_ms;
    ReceiptHandle handle{storage_id_, m.seq, m.state.receive_count};
    out->received.push_back({entry->second, handle.Encode()});
  }
  return true;
}

namespace {

Status InvalidHandle(const std::string& handle_text) {
  return Status(ErrorCode::kReceiptHandleIsInvalid,
                "The input receipt handle \"" + handle_text + "\" is not a valid receipt handle.");
}

Status ExpiredHandle(const std::string& handle_text) {
  return Status(ErrorCode::kInvalidParameterValue,
                "Value " + handle_text +
                    " for parameter ReceiptHandle is invalid. Reason: The receipt handle has "
                    "expired.");
}

}  // namespace

bool Queue::FifoHandleExpiredLocked(const Message& m, uint32_t handle_receive_count,
                                    int64_t now) const {
  return fifo_ && (m.state.receive_count != handle_receive_count || m.state.visible_at_ms <= now);
}

Result<Queue::Removed> Queue::Delete(const std::string& handle_text) {
  auto handle = ReceiptHandle::Decode(handle_text);
  if (!handle || handle->queue_incarnation != storage_id_) return InvalidHandle(handle_text);
  std::unique_lock lock(mu_);
  auto found = messages_.find(handle->seq);
  // AWS accepts a stale handle of a message that is already gone: deletes are idempotent.
  if (found == messages_.end()) return Removed{false, handle->seq};
  const int64_t now = clock_.NowMillis();
  if (FifoHandleExpiredLocked(*found->second, handle->receive_count, now)) {
    return ExpiredHandle(handle_text);
  }
  bool next_ready = false;
  UnlinkLocked(found, now, &next_ready);
  // A receive met the in-flight limit: this delete may have made room for a waiting poll.
  const bool made_room = std::exchange(at_limit_, false);
  if (next_ready || made_room) {
    // Something can go out now (FIFO: the group's next message): tell one long-poller.
    auto waiters = TakeWaitersLocked(1);
    lock.unlock();
    for (auto& wake : waiters) wake();
  }
  return Removed{true, handle->seq};
}

Result<Queue::VisibilityChanged> Queue::ChangeVisibility(const std::string& handle_text,
                                                         int timeout_seconds) {
  auto handle = ReceiptHandle::Decode(handle_text);
  if (!handle || handle->queue_incarnation != storage_id_) return InvalidHandle(handle_text);
  std::unique_lock lock(mu_);
  const int64_t now = clock_.NowMillis();
  auto found = messages_.find(handle->seq);
  if (found == messages_.end()) {
    return Status(ErrorCode::kInvalidParameterValue,
                  "Value " + handle_text +
                      " for parameter ReceiptHandle is invalid. Reason: Message does not exist "
                      "or is not available for visibility timeout change.");
  }
  if (FifoHandleExpiredLocked(*found->second, handle->receive_count, now)) {
    return ExpiredHandle(handle_text);
  }
  // Standard queue, visibility already over: AWS answers 200 and leaves the message visible.
  if (found->second->state.visible_at_ms <= now) return VisibilityChanged{};
  Message& m = MutableLocked(found);
  int64_t old_visible_at = m.state.visible_at_ms;
  m.state.visible_at_ms = now + int64_t(timeout_seconds) * 1000;
  ReindexLocked(m, old_visible_at, now);
  VisibilityChanged result{{m.seq, m.state}};
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
  purge_generation_.fetch_add(1);
  ClearLocked();
  return true;
}

std::vector<uint64_t> Queue::SweepExpired() {
  std::vector<uint64_t> out;
  std::lock_guard lock(mu_);
  const int64_t cutoff = clock_.NowMillis() - int64_t(config_.message_retention_period) * 1000;
  const int64_t now = clock_.NowMillis();
  // Expired receive attempts go here, off the receive path.
  std::erase_if(attempts_, [now](const auto& a) { return a.second.expires_ms <= now; });
  while (!messages_.empty() && messages_.begin()->second->sent_ms <= cutoff) {
    out.push_back(messages_.begin()->first);
    UnlinkLocked(messages_.begin(), now);
  }
  return out;
}

std::vector<Message> Queue::TakeForMove(uint64_t max_seq, size_t limit) {
  std::vector<Message> out;
  std::lock_guard lock(mu_);
  const int64_t now = clock_.NowMillis();
  std::set<std::string> blocked_groups;  // FIFO: groups with an earlier message left behind
  for (auto it = messages_.begin();
       it != messages_.end() && it->first <= max_seq && out.size() < limit;) {
    const Message& m = *it->second;
    bool blocked = fifo_ && blocked_groups.count(m.message_group_id) > 0;
    if (m.state.visible_at_ms > now || blocked) {
      if (fifo_) blocked_groups.insert(m.message_group_id);
      ++it;
      continue;
    }
    auto next = std::next(it);
    out.push_back(Take(UnlinkLocked(it, now)));
    it = next;
  }
  return out;
}

size_t Queue::CountUpTo(uint64_t max_seq) const {
  std::lock_guard lock(mu_);
  return size_t(std::distance(messages_.begin(), messages_.upper_bound(max_seq)));
}

uint64_t Queue::LastSeq() const {
  std::lock_guard lock(mu_);
  return next_seq_ - 1;
}

QueueCounters Queue::Counters() const {
  std::lock_guard lock(mu_);
  SettleLocked(clock_.NowMillis());
  QueueCounters c;
  c.not_visible = hidden_in_flight_;
  c.delayed = hidden_delayed_;
  c.visible = int64_t(messages_.size()) - c.not_visible - c.delayed;
  return c;
}

int64_t Queue::OldestSentMillis() const {
  std::lock_guard lock(mu_);
  // Seqs grow with time within a queue's life, so the first one is the oldest still here.
  return messages_.empty() ? 0 : messages_.begin()->second->sent_ms;
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
