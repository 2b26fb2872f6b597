// Queue: the in-memory state of one queue (its messages and which are visible, in flight or
// delayed) and its configuration. QueueService persists; Queue only keeps state.
//
// Messages live in `messages_` by seq (send order, used by retention sweeps) and in
// `by_visible_` ordered by (visible_at, seq): a receive takes the smallest entries whose
// visible_at has passed, which delivers oldest-first and brings back messages whose
// visibility timeout or delay ran out without any timer per message.
//
// FIFO queues keep each message group's seqs in `groups_`, and only a group's first message
// is in `by_visible_`. A group is offered to a receive when its first message is visible; the
// receive then takes that group's messages in order until it meets one that is in flight or
// delayed. While the first message is in flight its entry sits in the future, so nothing later
// in the group is delivered; deleting it puts the next message of the group in its place.
//
// ApproximateNumberOf* are kept as states change, not counted by scanning: `hidden_` holds the
// messages that were not visible when they last changed, by when they become visible, and
// Counters() first retires the entries whose time has come (each entry once), so a queue of
// millions answers in constant time.
//
// Thread-safety: every method locks the queue's mutex; callbacks run without it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/metrics.h"
#include "core/queue/deduplication_window.h"
#include "core/queue/message.h"
#include "core/queue/queue_config.h"

namespace postbox::core {

// Where a queue lives: AWS namespaces queues by region and account.
struct QueueId {
  std::string region;
  std::string account;
  std::string name;

  std::string Key() const { return region + "/" + account + "/" + name; }
  std::string Arn() const { return "arn:aws:sqs:" + region + ":" + account + ":" + name; }
  bool operator==(const QueueId&) const = default;
  // Parses arn:aws:sqs:<region>:<account>:<name>.
  static std::optional<QueueId> FromArn(const std::string& arn);
};

struct QueueCounters {
  int64_t visible = 0;
  int64_t not_visible = 0;  // received and in flight
  int64_t delayed = 0;
};

// What happened to a queue's messages since start, for /metrics.
struct QueueStats {
  Counter sent;
  Counter received;  // deliveries (a message received twice counts twice)
  Counter deleted;
  Counter expired;        // past MessageRetentionPeriod
  Counter dead_lettered;  // moved to the dead-letter queue by maxReceiveCount
  Counter over_limit;     // receive attempts at the in-flight limit (FIFO: answered empty)
};

struct ReceiveOptions {
  int max_messages = 1;
  std::optional<int> visibility_timeout;  // nullopt: the queue's VisibilityTimeout
  // FIFO only: a retry with the same id within five minutes, while the messages it returned
  // are untouched and in flight, returns them again with the same receipt handles.
  std::string receive_request_attempt_id;
  // Messages the queue may have in flight at most (0: no limit). At the limit a standard
  // queue's receive fails with OverLimit and a FIFO queue's returns nothing, as AWS's do; a
  // receive with a visibility timeout of 0 puts nothing in flight and is not limited.
  int64_t max_in_flight = 0;
};

// How long a ReceiveRequestAttemptId is remembered ("ReceiveMessage", SQS API Reference).
inline constexpr int64_t kReceiveAttemptWindowMs = 5 * 60 * 1000;

// `message` is shared with the queue, read-only: a snapshot as of this receive (the queue copies
// a message before changing one that a receiver still holds), so a receive copies no bodies.
struct ReceivedMessage {
  std::shared_ptr<const Message> message;
  std::string receipt_handle;
};

class Queue {
 public:
  Queue(QueueId id, uint64_t storage_id, QueueConfig config, AttributeMap tags,
        int64_t created_seconds, const Clock& clock);

  const QueueId& id() const { return id_; }
  // FifoQueue cannot change after creation.
  bool fifo() const { return fifo_; }
  DeduplicationWindow& deduplication() { return deduplication_; }
  // Held by a FIFO send from reserving its seqs until its batch is submitted to storage.
  std::mutex& send_order_mutex() { return send_order_mu_; }
  // Shared by sends, from their first step until their batch is submitted; held exclusively
  // by a purge, so that a send's write lands wholly before or wholly after the purge's.
  std::shared_mutex& purge_mutex() { return purge_mu_; }
  // Counts purges: a send stored before a purge must not reappear in memory after it.
  uint64_t purge_generation() const { return purge_generation_.load(); }
  // Insert, unless a purge happened since `purge_generation` was read.
  void InsertUnlessPurgedSince(uint64_t purge_generation, std::vector<Message> messages);
  // Unique per queue incarnation: storage key and receipt-handle scope.
  uint64_t storage_id() const { return storage_id_; }

  QueueConfig config() const;
  // The queue's Policy, parsed; null when it has none. Cheaper than config() per request.
  std::shared_ptr<const policy::Document> access_policy() const;
  AttributeMap tags() const;
  int64_t created_seconds() const { return created_seconds_; }
  int64_t last_modified_seconds() const;
  void SetConfig(QueueConfig config, int64_t now_seconds);
  void SetTags(AttributeMap tags);
  bool deleted() const;
  void MarkDeleted();

  // Reserves `count` consecutive seqs for new messages.
  uint64_t ReserveSeqs(size_t count);
  // Restores the seq counter at start-up so seqs are never reused.
  void EnsureSeqAbove(uint64_t seq);

  // Adds committed messages and wakes long-pollers.
  void Insert(std::vector<Message> messages);

  // Takes up to max_messages visible messages, marks them in flight, and returns them plus
  // the ones that expired (retention) or must move to the dead-letter queue.
  struct ReceiveOutcome {
    std::vector<ReceivedMessage> received;
    std::vector<Message> expired;
    std::vector<Message> to_dead_letter;
    // Not ok: a ReceiveRequestAttemptId that can no longer be retried, or OverLimit.
    Status status;
  };
  ReceiveOutcome Receive(const ReceiveOptions& options);

  // Receipt handles follow AWS's rules (docs/sqs-behaviour.md): on a standard queue any
  // handle of a message still stored deletes it, and changes its visibility while it is in
  // flight (an older handle of a message received again included); a change asked of a
  // message whose visibility already ran out succeeds and changes nothing. On a FIFO queue
  // only the handle of the current receive, before its visibility runs out, is accepted.

  // The message named by the handle, removed; found is false if it was already gone.
  struct Removed {
    bool found = false;
    uint64_t seq = 0;
  };
  Result<Removed> Delete(const std::string& handle);
  // Sets a new visibility deadline for an in-flight message; returns its new state, or
  // nullopt when nothing changed.
  using VisibilityChanged = std::optional<std::pair<uint64_t, storage::MessageState>>;
  Result<VisibilityChanged> ChangeVisibility(const std::string& handle, int timeout_seconds);

  // Removes every message; returns false if a purge happened in the last 60 s.
  bool Purge();
  // Removes messages past the retention period (and expired receive attempts); returns the
  // messages' seqs.
  std::vector<uint64_t> SweepExpired();

  // Message move tasks: removes and returns up to `limit` messages with seq <= max_seq that are
  // not in flight or delayed, in send order (FIFO: never past an in-flight message of a group).
  std::vector<Message> TakeForMove(uint64_t max_seq, size_t limit);
  // How many messages with seq <= max_seq are still in the queue.
  size_t CountUpTo(uint64_t max_seq) const;
  // The highest seq handed out so far.
  uint64_t LastSeq() const;

  QueueCounters Counters() const;
  // SentTimestamp of the oldest message still in the queue, or 0 if it is empty.
  int64_t OldestSentMillis() const;
  QueueStats& stats() { return stats_; }
  // Wall-clock ms at which the next not-yet-visible message becomes visible, or 0 if none.
  int64_t NextVisibleAtMillis() const;

  // Long polling: `wake` is called once, without the lock, when a message may be available.
  // Each newly available message wakes one waiter (oldest first); deleting the queue wakes all.
  // Returns a token for RemoveWaiter.
  uint64_t AddWaiter(std::function<void()> wake);
  void RemoveWaiter(uint64_t token);
  // Wakes the oldest waiter, if any: used to pass on a wake-up its target no longer needs.
  void WakeOne();

 private:
  // Shared with ReceivedMessage; see MutableLocked.
  using MessageMap = std::map<uint64_t, std::shared_ptr<Message>>;

  // The entry's message for changing it: copied first if a receiver still holds it.
  Message& MutableLocked(MessageMap::iterator it);

  // Adds a message that is already in messages_ to the receive index (FIFO: to its group).
  void IndexLocked(const Message& m);
  // Removes a message from messages_ and the receive index and returns it. FIFO: sets
  // *next_ready when this let the next message of its group become receivable now.
  std::shared_ptr<Message> UnlinkLocked(MessageMap::iterator it, int64_t now,
                                        bool* next_ready = nullptr);
  // Puts a message into by_visible_ again after its visibility changed, if it is indexed,
  // and into hidden_ by its new visibility.
  void ReindexLocked(const Message& m, int64_t old_visible_at, int64_t now);
  // Counter bookkeeping: a message enters hidden_ when it changes to not visible at `now`,
  // and leaves it before it changes or goes (by the state it entered with).
  void TrackLocked(const Message& m, int64_t now);
  void UntrackLocked(int64_t visible_at_ms, uint64_t seq, uint32_t receive_count);
  // Retires the hidden_ entries visible by `now`.
  void SettleLocked(int64_t now) const;
  void ClearLocked();
  ReceiveOutcome ReceiveFifoLocked(const ReceiveOptions& options, int64_t now);
  // How many messages this receive may take: options.max_messages, less what would pass the
  // in-flight limit (0 at the limit, which is counted and remembered in at_limit_).
  int ReceiveRoomLocked(const ReceiveOptions& options, int visibility, int64_t now);
  // FIFO: the result of an earlier receive with the same attempt id, if still valid.
  bool RetryAttemptLocked(const ReceiveOptions& options, int64_t now, ReceiveOutcome* out);
  // FIFO only: the handle is from an earlier receive, or its visibility ran out.
  bool FifoHandleExpiredLocked(const Message& m, uint32_t handle_receive_count, int64_t now) const;
  // Decides the fate of a visible message a receive came to: expired, to the dead-letter
  // queue (both moved into `out` and removed), or delivered (state updated, added to `out`).
  // Returns true if it was delivered.
  enum class Fate { kDelivered, kRemoved };
  Fate DeliverOrRemoveLocked(MessageMap::iterator it, int64_t now, int visibility,
                             ReceiveOutcome* out);
  // Removes and returns up to `limit` waiters, oldest first.
  std::vector<std::function<void()>> TakeWaitersLocked(size_t limit = SIZE_MAX);

  const QueueId id_;
  const uint64_t storage_id_;
  const bool fifo_;
  const int64_t created_seconds_;
  const Clock& clock_;

  mutable std::mutex mu_;
  QueueConfig config_;
  AttributeMap tags_;
  int64_t last_modified_seconds_;
  bool deleted_ = false;
  uint64_t next_seq_ = 1;
  int64_t last_purge_ms_ = 0;
  bool purged_ = false;
  MessageMap messages_;
  std::set<std::pair<int64_t, uint64_t>> by_visible_;
  std::unordered_map<std::string, std::set<uint64_t>> groups_;  // FIFO: group id -> seqs
  struct Hidden {
    int64_t visible_at_ms;
    uint64_t seq;
    bool in_flight;  // received (else delayed)
    auto operator<=>(const Hidden&) const = default;
  };
  // Mutable: reading the counters retires entries whose time has passed, which changes no
  // observable state.
  mutable std::set<Hidden> hidden_;
  mutable int64_t hidden_in_flight_ = 0;
  mutable int64_t hidden_delayed_ = 0;
  // A receive found the in-flight limit reached: the next delete wakes a waiting long poll
  // (FIFO polls wait at the limit instead of failing).
  bool at_limit_ = false;
  struct ReceiveAttempt {
    int64_t expires_ms = 0;
    struct Delivered {
      uint64_t seq;
      uint32_t receive_count;
      int64_t visible_at_ms;
    };
    std::vector<Delivered> delivered;
  };
  std::unordered_map<std::string, ReceiveAttempt> attempts_;  // FIFO: by attempt id
  DeduplicationWindow deduplication_;
  std::mutex send_order_mu_;
  std::shared_mutex purge_mu_;
  std::atomic<uint64_t> purge_generation_{0};
  uint64_t next_waiter_ = 1;
  std::map<uint64_t, std::function<void()>> waiters_;
  QueueStats stats_;
};

}  // namespace postbox::core
