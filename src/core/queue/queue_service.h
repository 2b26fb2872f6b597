// QueueService: the SQS operations on queues and messages, protocol-free.
//
// It keeps the registry of queues, validates requests with AWS's rules, and persists through
// the storage engine: configuration changes go through the ConfigStore (stored in order, then
// applied to memory: queue_configuration.cc) and sends are durable before their callback runs
// (the caller acknowledges only then); receives, deletes and visibility changes are applied in
// memory at once and persisted lazily (at-least-once delivery tolerates a crash repeating
// them), and answered once written. Start-up loading is in queue_loading.cc.
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
#include "core/config/config_store.h"
#include "core/queue/queue.h"
#include "storage/engine.h"

namespace postbox::core {

using QueuePtr = std::shared_ptr<Queue>;
using StatusCallback = std::function<void(Status)>;

// Messages one queue may have in flight (received, neither deleted nor visible again): AWS's
// quotas by default ("Amazon SQS message quotas"; FIFO queues had 20,000 until AWS raised it).
struct InFlightLimits {
  int64_t standard = 120'000;
  int64_t fifo = 120'000;
};

// Whether SendMessages asks storage to admit new data, or its caller did for it.
enum class SendAdmission { kAsk, kAdmitted };

class QueueService {
 public:
  // Configuration changes go through `config` (shared with the other services, so that all
  // of them are stored in one order); without one, the service makes its own.
  QueueService(storage::Engine& engine, const Clock& clock, ConfigStore* config = nullptr);

  // Set before serving (sqs.max_in_flight_messages*).
  void set_in_flight_limits(InFlightLimits limits) { in_flight_limits_ = limits; }

  // Rebuilds every queue and message from storage. Call once, before serving.
  Status Load();

  // --- queues ---
  void CreateQueue(QueueId id, AttributeMap attributes, AttributeMap tags,
                   std::function<void(Result<QueuePtr>)> done);
  Result<QueuePtr> GetQueue(const QueueId& id) const;
  // The queue's Policy as access checks read it; null when it has none or does not exist.
  std::shared_ptr<const policy::Document> AccessPolicyOf(const QueueId& id) const;
  // Every queue, sorted by region, account and name (for /metrics).
  std::vector<QueuePtr> AllQueues() const;
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
  // Unless `admission` says the caller already asked (a publish, for all of its queues),
  // storage is asked first (Engine::AdmitNewData): when it is too far behind, every message
  // fails with kThrottling and nothing is claimed or stored.
  void SendMessages(const QueuePtr& queue, std::vector<NewMessage> messages,
                    const std::string& sender_id,
                    std::function<void(std::vector<Result<SentMessage>>)> done,
                    SendAdmission admission = SendAdmission::kAsk);
  // Receives, deletes and visibility changes change memory first and store lazily (a crash
  // may repeat them: at-least-once). They ask storage first and change nothing if it cannot
  // write (a full disk still takes them); what they change is answered only once written.

  // Takes messages (marking them in flight) and returns them at once. `stored`, if given, runs
  // exactly once: with Ok when their new states are written (at once if nothing needed
  // writing), or with storage's failure, which the caller answers instead of the messages.
  // Fails only for storage refusing, or a FIFO ReceiveRequestAttemptId that is malformed or
  // can no longer be retried (then `stored` gets that error too).
  Result<std::vector<ReceivedMessage>> Receive(const QueuePtr& queue, const ReceiveOptions& options,
                                               StatusCallback stored = nullptr);
  // Per-handle results, in order, once the deletes are written (one batch); a storage
  // failure fails the whole call instead.
  using StatusesCallback = std::function<void(Result<std::vector<Status>>)>;
  void DeleteMessages(const QueuePtr& queue, const std::vector<std::string>& receipt_handles,
                      StatusesCallback done);
  void DeleteMessage(const QueuePtr& queue, const std::string& receipt_handle, StatusCallback done);
  struct VisibilityChange {
    std::string receipt_handle;
    int visibility_timeout = 0;
  };
  void ChangeMessageVisibilities(const QueuePtr& queue,
                                 const std::vector<VisibilityChange>& changes,
                                 StatusesCallback done);
  void ChangeMessageVisibility(const QueuePtr& queue, const std::string& receipt_handle,
                               int visibility_timeout, StatusCallback done);

  // Removes messages past their retention period from every queue.
  void SweepExpired();

  const Clock& clock() const { return clock_; }

 private:
  std::string EncodeQueue(const Queue& queue, const QueueConfig& config,
                          const AttributeMap& tags) const;
  // Whether `queue` is the registered queue of its name (not deleted, not replaced).
  bool IsRegistered(const QueuePtr& queue) const;
  // A change to a queue's settings and tags, made through the ConfigStore: `edit` changes
  // copies of the current ones (or refuses), the result is stored, then applied and answered.
  using QueueEdit = std::function<Status(QueueConfig& config, AttributeMap& tags)>;
  void ChangeQueue(const QueuePtr& queue, QueueEdit edit, StatusCallback done);
  static Status ValidateMessage(const QueueConfig& config, const NewMessage& message);
  static Status ValidateFifoFields(const QueueConfig& config, const NewMessage& message);
  // A RedrivePolicy must name an existing queue of the same type whose RedriveAllowPolicy
  // admits the source.
  Status CheckRedriveTarget(const QueueId& source, const QueueConfig& config) const;
  void MoveToDeadLetter(const QueuePtr& source, std::vector<Message> messages);
  // Stores a batch whose changes memory already shows; `stored` (optional) gets the outcome.
  void PersistLazily(storage::WriteBatch batch, StatusCallback stored = nullptr);
  void AnswerOnceStored(storage::WriteBatch batch, std::vector<Status> results,
                        StatusesCallback done);

  storage::Engine& engine_;
  InFlightLimits in_flight_limits_;
  const Clock& clock_;
  std::unique_ptr<ConfigStore> own_config_;
  ConfigStore& config_;
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
