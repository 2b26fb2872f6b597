// QueueService: the SQS operations on queues and messages, protocol-free.
//
// It keeps the registry of queues, validates requests with AWS's rules, and persists through
// the storage engine: configuration changes and sends are durable before their callback
// runs (the caller acknowledges only then); receives, deletes and visibility changes are
// applied in memory at once and persisted lazily (at-least-once delivery tolerates a crash
// repeating them).
//
// Asynchronous operations take a callback that runs exactly once, possibly on a storage
// thread: it must not block. Thread-safety: all methods are safe from any thread.
#pragma once

#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "core/queue/queue.h"
#include "storage/engine.h"

namespace postbox::core {

using QueuePtr = std::shared_ptr<Queue>;
using StatusCallback = std::function<void(Status)>;

class QueueService {
 public:
  QueueService(storage::Engine& engine, const Clock& clock);

  // Rebuilds every queue and message from storage. Call once, before serving.
  Status Load();

  // --- queues ---
  void CreateQueue(QueueId id, AttributeMap attributes, AttributeMap tags,
                   std::function<void(Result<QueuePtr>)> done);
  Result<QueuePtr> GetQueue(const QueueId& id) const;
  // Names of the account's queues in the region, sorted, starting with `prefix`.
  std::vector<std::string> ListQueueNames(const std::string& region, const std::string& account,
                                          const std::string& prefix) const;
  void DeleteQueue(const QueuePtr& queue, StatusCallback done);
  // `names` may hold "All". Unknown names fail with kInvalidAttributeName.
  Result<AttributeMap> GetAttributes(const Queue& queue,
                                     const std::vector<std::string>& names) const;
  void SetAttributes(const QueuePtr& queue, const AttributeMap& attributes, StatusCallback done);
  void Purge(const QueuePtr& queue, StatusCallback done);
  void TagQueue(const QueuePtr& queue, const AttributeMap& tags, StatusCallback done);
  void UntagQueue(const QueuePtr& queue, const std::vector<std::string>& keys, StatusCallback done);
  // Queues whose RedrivePolicy names this queue as their dead-letter queue, sorted by name.
  std::vector<QueueId> ListDeadLetterSourceQueues(const Queue& queue) const;

  // --- messages ---
  // Validates each message; the valid ones are stored durably, then made visible.
  // Results are per message, in order.
  void SendMessages(const QueuePtr& queue, std::vector<NewMessage> messages,
                    const std::string& sender_id,
                    std::function<void(std::vector<Result<SentMessage>>)> done);
  // Fails only for a FIFO ReceiveRequestAttemptId that is malformed or can no longer be retried.
  Result<std::vector<ReceivedMessage>> Receive(const QueuePtr& queue,
                                               const ReceiveOptions& options);
  Status DeleteMessage(const QueuePtr& queue, const std::string& receipt_handle);
  // Per-handle results, in order; the storage deletes go out as one batch.
  std::vector<Status> DeleteMessages(const QueuePtr& queue,
                                     const std::vector<std::string>& receipt_handles);
  Status ChangeMessageVisibility(const QueuePtr& queue, const std::string& receipt_handle,
                                 int visibility_timeout);
  struct VisibilityChange {
    std::string receipt_handle;
    int visibility_timeout = 0;
  };
  std::vector<Status> ChangeMessageVisibilities(const QueuePtr& queue,
                                                const std::vector<VisibilityChange>& changes);

  // Removes messages past their retention period from every queue.
  void SweepExpired();

  const Clock& clock() const { return clock_; }

 private:
  std::string EncodeQueue(const Queue& queue, const QueueConfig& config,
                          const AttributeMap& tags) const;
  void PersistQueue(const QueuePtr& queue, const QueueConfig& config, const AttributeMap& tags,
                    StatusCallback done);
  static Status ValidateMessage(const QueueConfig& config, const NewMessage& message);
  static Status ValidateFifoFields(const QueueConfig& config, const NewMessage& message);
  // A RedrivePolicy must name an existing queue of the same type whose RedriveAllowPolicy
  // admits the source.
  Status CheckRedriveTarget(const QueueId& source, const QueueConfig& config) const;
  void MoveToDeadLetter(const QueuePtr& source, std::vector<Message> messages);
  void PersistLazily(storage::WriteBatch batch);

  storage::Engine& engine_;
  const Clock& clock_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, QueuePtr> queues_;        // by QueueId::Key()
  std::unordered_map<std::string, int64_t> deleted_at_ms_;  // recently deleted names
};

// Queue names: 1-80 of [A-Za-z0-9_-], FIFO names end in ".fifo".
Status ValidateQueueName(const std::string& name);

// A FIFO message's (or FIFO topic publish's) SequenceNumber: 10^19 + seq, so that it looks like
// AWS's, a 20-digit decimal without leading zeros, and string order is numeric order for
// clients that compare them. (Seqs stay far below 8 * 10^18: they start at ms << 16 at most.)
// Numbers from before this form were zero-padded seqs; those compare below every new one.
std::string SequenceNumber(uint64_t seq);

// SendMessageBatch on a FIFO queue: a missing MessageGroupId or MessageDeduplicationId in any
// entry fails the whole request (AWS does not report these per entry).
Status CheckFifoBatch(const QueueConfig& config, const std::vector<NewMessage>& messages);

}  // namespace postbox::core
