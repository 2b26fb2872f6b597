#include "core/queue/queue_service.h"

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>

#include "base/check.h"
#include "base/encoding.h"
#include "base/md5_many.h"
#include "core/queue/message_codec.h"
#include "core/queue/message_rules.h"
#include "core/queue/queue_service_internal.h"

namespace postbox::core {
namespace {

// X-Ray trace headers are short ("Root=1-...;Parent=...;Sampled=1"); anything far longer is
// not one.
constexpr size_t kMaxTraceHeaderBytes = 1024;

// The key a FIFO send is deduplicated by: per queue, or per message group in high-throughput
// mode. Both ids are printable ASCII, so a newline cannot be part of either.
std::string DeduplicationKey(const QueueConfig& config, const std::string& group,
                             const std::string& deduplication_id) {
  if (!config.per_group_deduplication()) return deduplication_id;
  return group + "\n" + deduplication_id;
}

}  // namespace

std::string SequenceNumber(uint64_t seq) {
  char text[24];
  std::snprintf(text, sizeof(text), "%llu",
                static_cast<unsigned long long>(kSequenceNumberBase + seq));
  return text;
}

Status CheckFifoBatch(const QueueConfig& config, const std::vector<NewMessage>& messages) {
  if (!config.fifo_queue) return Status::Ok();
  for (const auto& m : messages) {
    if (!m.message_group_id) {
      return Status(ErrorCode::kInvalidParameterValue,
                    "The request must contain the parameter MessageGroupId.");
    }
  }
  if (config.content_based_deduplication) return Status::Ok();
  for (const auto& m : messages) {
    if (m.message_deduplication_id.empty()) {
      return Status(ErrorCode::kInvalidParameterValue,
                    "The queue should either have ContentBasedDeduplication enabled or "
                    "MessageDeduplicationId provided explicitly");
    }
  }
  return Status::Ok();
}

QueueService::QueueService(storage::Engine& engine, const Clock& clock, ConfigStore* config)
    : engine_(engine),
      clock_(clock),
      own_config_(config == nullptr ? std::make_unique<ConfigStore>(engine) : nullptr),
      config_(config == nullptr ? *own_config_ : *config) {}

Result<QueuePtr> QueueService::GetQueue(const QueueId& id) const {
  std::shared_lock lock(mu_);
  auto it = queues_.find(id.Key());
  if (it == queues_.end()) return NonExistentQueue();
  return it->second;
}

std::shared_ptr<const policy::Document> QueueService::AccessPolicyOf(const QueueId& id) const {
  auto queue = GetQueue(id);
  return queue.ok() ? (*queue)->access_policy() : nullptr;
}

std::vector<std::string> QueueService::ListQueueNames(const std::string& region,
                                                      const std::string& account,
                                                      const std::string& prefix) const {
  std::vector<std::string> names;
  std::shared_lock lock(mu_);
  for (const auto& [key, queue] : queues_) {
    const QueueId& id = queue->id();
    if (id.region == region && id.account == account && id.name.rfind(prefix, 0) == 0) {
      names.push_back(id.name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

void QueueService::Purge(const QueuePtr& queue, StatusCallback done) {
  // A purge empties memory before it is stored: ask storage first.
  if (Status s = engine_.Accepts(storage::SpaceUse::kShrinks); !s.ok()) return done(s);
  // No send is between its first step and its submission while the purge clears memory and
  // submits its own write (see SendMessages).
  std::unique_lock purge_lock(queue->purge_mutex());
  if (!queue->Purge()) {
    return done(Status(
        ErrorCode::kPurgeQueueInProgress,
        "Only one PurgeQueue operation on " + queue->id().name + " is allowed every 60 seconds."));
  }
  storage::WriteBatch batch;
  batch.Purge(queue->storage_id());
  // A purge also ends a FIFO queue's deduplication interval: the same deduplication id may
  // be sent again at once, as on AWS.
  for (const auto& key : queue->deduplication().Clear()) {
    batch.DeleteRecord(storage::RecordKind::kDeduplication, queue->storage_id(),
                       DeduplicationRecordKey(key));
  }
  batch.MarkAppliedInMemory();
  engine_.Commit(std::move(batch), storage::Durability::kSync, std::move(done));
}

Status QueueService::ValidateFifoFields(const QueueConfig& config, const NewMessage& m) {
  // AWS's own grammar ("include"), quoted as it answers.
  auto not_for_this_queue = [](const std::string& parameter, const std::string& value) {
    return Status(ErrorCode::kInvalidParameterValue,
                  "Value " + value + " for parameter " + parameter +
                      " is invalid. Reason: The request include parameter that is not valid for "
                      "this queue type.");
  };
  if (m.message_group_id) {
    // Standard queues accept a MessageGroupId too (fair queues); it is returned, not ordered.
    POSTBOX_RETURN_IF_ERROR(ValidateFifoToken("MessageGroupId", *m.message_group_id));
  }
  if (!config.fifo_queue) {
    if (!m.message_deduplication_id.empty()) {
      return Status(ErrorCode::kInvalidParameterValue,
                    "Value " + m.message_deduplication_id +
                        " for parameter MessageDeduplicationId is invalid. Reason: The request "
                        "includes a parameter that is not valid for this queue type.");
    }
    return Status::Ok();
  }
  if (!m.message_group_id) {
    return Status(ErrorCode::kMissingParameter,
                  "The request must contain the parameter MessageGroupId.");
  }
  // DelaySeconds=0 is accepted (the queue's delay applies); any other per-message delay is not.
  if (m.delay_seconds && *m.delay_seconds != 0) {
    return not_for_this_queue("DelaySeconds", std::to_string(*m.delay_seconds));
  }
  if (!m.message_deduplication_id.empty()) {
    return ValidateFifoToken("MessageDeduplicationId", m.message_deduplication_id);
  }
  if (!config.content_based_deduplication) {
    return Status(ErrorCode::kInvalidParameterValue,
                  "The queue should either have ContentBasedDeduplication enabled or "
                  "MessageDeduplicationId provided explicitly");
  }
  return Status::Ok();
}

Status QueueService::ValidateMessage(const QueueConfig& config, const NewMessage& m) {
  if (m.body.empty()) {
    return Status(ErrorCode::kMissingParameter,
                  "The request must contain the parameter MessageBody.");
  }
  POSTBOX_RETURN_IF_ERROR(ValidateBody(m.body));
  POSTBOX_RETURN_IF_ERROR(ValidateAttributes(m.attributes));
  POSTBOX_RETURN_IF_ERROR(ValidateSystemAttributes(m.system_attributes));
  POSTBOX_RETURN_IF_ERROR(ValidateFifoFields(config, m));
  if (m.delay_seconds && (*m.delay_seconds < 0 || *m.delay_seconds > 900)) {
    return Status(ErrorCode::kInvalidParameterValue,
                  "Value " + std::to_string(*m.delay_seconds) +
                      " for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 "
                      "and <= 900.");
  }
  size_t size = MessageSize(m);
  if (size > size_t(config.maximum_message_size)) {
    return Status(ErrorCode::kInvalidParameterValue,
                  "One or more parameters are invalid. Reason: Message must be shorter than " +
                      std::to_string(config.maximum_message_size) + " bytes.");
  }
  return Status::Ok();
}

void QueueService::SendMessages(const QueuePtr& queue, std::vector<NewMessage> messages,
                                const std::string& sender_id,
                                std::function<void(std::vector<Result<SentMessage>>)> done,
                                SendAdmission admission) {
  if (admission == SendAdmission::kAsk) {
    // Before any deduplication key is claimed: a refused send leaves nothing behind that a
    // duplicate could be acknowledged against.
    if (Status s = engine_.AdmitNewData(); !s.ok()) {
      return done(std::vector<Result<SentMessage>>(messages.size(), s));
    }
  }
  auto results = std::make_shared<std::vector<Result<SentMessage>>>();
  results->reserve(messages.size());
  std::vector<Message> accepted;
  const QueueConfig config = queue->config();
  const bool fifo = queue->fifo();
  const int64_t now = clock_.NowMillis();
  // FIFO: seqs are the order within a group, so reserving them and submitting the batch must
  // not interleave with another send (storage commits in submission order).
  std::shared_lock purge_lock(queue->purge_mutex());
  const uint64_t purge_generation = queue->purge_generation();
  std::unique_lock<std::mutex> order_lock;
  if (fifo) order_lock = std::unique_lock(queue->send_order_mutex());
  uint64_t seq = queue->ReserveSeqs(messages.size());
  storage::WriteBatch batch;
  // Deduplication keys this send claimed, released again if the batch is not stored.
  auto claimed = std::make_shared<std::vector<std::pair<DeduplicationHash, UuidBytes>>>();
  bool duplicates = false;
  // The bodies' MD5s side by side (md5_many.h): a tenth of the core when hashed one by one.
  std::vector<std::string_view> bodies;
  bodies.reserve(messages.size());
  for (const auto& in : messages) bodies.push_back(in.body);
  std::vector<std::string> body_md5s = Md5HexMany(bodies);
  accepted.reserve(messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    NewMessage& in = messages[i];
    if (Status s = ValidateMessage(config, in); !s.ok()) {
      results->push_back(s);
      continue;
    }
    Message m;
    m.seq = seq++;
    const UuidBytes id_bytes = NewUuidBytes();
    m.message_id = FormatUuid(id_bytes);
    m.sent_ms = now;
    m.sender_id = sender_id;
    m.md5_of_body = std::move(body_md5s[i]);
    m.md5_of_attributes = Md5OfAttributes(in.attributes);
    m.md5_of_system_attributes = Md5OfAttributes(in.system_attributes);
    // After the MD5: it covers the system attributes the request itself carried. A header that
    // is too long or not valid text is ignored rather than stored.
    if (!in.trace_header.empty() && in.trace_header.size() <= kMaxTraceHeaderBytes &&
        ValidateBody(in.trace_header).ok() && !in.system_attributes.contains("AWSTraceHeader")) {
      AttributeValue trace;
      trace.data_type = "String";
      trace.string_value = std::move(in.trace_header);
      in.system_attributes.emplace("AWSTraceHeader", std::move(trace));
    }
    if (fifo) {
      // ContentBasedDeduplication: the id is the SHA-256 of the body (not the attributes).
      m.message_deduplication_id = in.message_deduplication_id.empty()
                                       ? Sha256Hex(in.body)
                                       : std::move(in.message_deduplication_id);
      m.sequence_number = SequenceNumber(m.seq);
      const DeduplicationHash key = HashDeduplicationKey(
          DeduplicationKey(config, *in.message_group_id, m.message_deduplication_id));
      const DeduplicationEntry entry{id_bytes, m.seq, now + kDeduplicationIntervalMs};
      if (auto original = queue->deduplication().Claim(key, entry, now)) {
        // Accepted, not enqueued again: the answer names the first send's message.
        results->push_back(SentMessage{FormatUuid(original->message_id), m.md5_of_body,
                                       m.md5_of_attributes, m.md5_of_system_attributes,
                                       SequenceNumber(original->seq)});
        duplicates = true;
        continue;
      }
      batch.PutRecord(storage::RecordKind::kDeduplication, queue->storage_id(),
                      DeduplicationRecordKey(key), entry.Encode());
      claimed->emplace_back(key, entry.message_id);
    }
    m.body = std::move(in.body);
    m.attributes = std::move(in.attributes);
    m.system_attributes = std::move(in.system_attributes);
    m.message_group_id = std::move(in.message_group_id).value_or("");
    // FIFO queues have only the queue's delay (a per-message DelaySeconds of 0 is accepted
    // and means it, as on AWS).
    const int delay = fifo ? config.delay_seconds : in.delay_seconds.value_or(config.delay_seconds);
    m.state.visible_at_ms = now + int64_t(delay) * 1000;
    batch.PutMessage(queue->storage_id(), m.seq, EncodeMessage(m), m.state);
    results->push_back(SentMessage{m.message_id, m.md5_of_body, m.md5_of_attributes,
                                   m.md5_of_system_attributes, m.sequence_number});
    accepted.push_back(std::move(m));
  }
  // A duplicate of a send still being stored must not be acknowledged before it: even an
  // empty batch commits only after every batch submitted before it.
  if (accepted.empty() && !duplicates) return done(std::move(*results));
  batch.MarkGrowing();  // refused with the original sends a duplicate waits for
  auto pending = std::make_shared<std::vector<Message>>(std::move(accepted));
  engine_.Commit(
      std::move(batch), storage::Durability::kSync,
      [queue, pending, results, claimed, purge_generation, done = std::move(done)](Status s) {
        if (!s.ok()) {
          // Nothing of the batch is stored: every accepted entry fails.
          for (const auto& [key, message_id] : *claimed) {
            queue->deduplication().Forget(key, message_id);
          }
          for (auto& r : *results) {
            if (r.ok()) r = s;
          }
          return done(std::move(*results));
        }
        queue->stats().sent.Add(pending->size());
        // A purge submitted after this batch deleted it from storage again.
        queue->InsertUnlessPurgedSince(purge_generation, std::move(*pending));
        done(std::move(*results));
      });
}

void QueueService::PersistLazily(storage::WriteBatch batch, StatusCallback stored) {
  engine_.Commit(std::move(batch), storage::Durability::kLazy, std::move(stored));
}

Result<std::vector<ReceivedMessage>> QueueService::Receive(const QueuePtr& queue,
                                                           const ReceiveOptions& options,
                                                           StatusCallback stored) {
  auto fail = [&stored](Status s) {
    if (stored) stored(s);
    return s;
  };
  if (queue->fifo() && !options.receive_request_attempt_id.empty()) {
    Status s = ValidateFifoToken("ReceiveRequestAttemptId", options.receive_request_attempt_id);
    if (!s.ok()) return fail(s);
  }
  // A receive puts messages in flight before their new states are stored.
  if (Status s = engine_.Accepts(storage::SpaceUse::kShrinks); !s.ok()) return fail(s);
  ReceiveOptions limited = options;
  limited.max_in_flight = queue->fifo() ? in_flight_limits_.fifo : in_flight_limits_.standard;
  Queue::ReceiveOutcome outcome = queue->Receive(limited);
  if (!outcome.status.ok()) return fail(outcome.status);
  queue->stats().received.Add(outcome.received.size());
  queue->stats().expired.Add(outcome.expired.size());
  if (!outcome.received.empty() || !outcome.expired.empty()) {
    storage::WriteBatch batch;
    for (const auto& r : outcome.received) {
      batch.UpdateState(queue->storage_id(), r.message->seq, r.message->state);
    }
    for (const auto& m : outcome.expired) batch.DeleteMessage(queue->storage_id(), m.seq);
    PersistLazily(std::move(batch), std::move(stored));
  } else if (stored) {
    stored(Status::Ok());
  }
  if (!outcome.to_dead_letter.empty()) MoveToDeadLetter(queue, std::move(outcome.to_dead_letter));
  return std::move(outcome.received);
}

void QueueService::MoveToDeadLetter(const QueuePtr& source, std::vector<Message> messages) {
  const QueueConfig config = source->config();
  std::optional<QueueId> target;
  if (config.redrive_policy)
    target = QueueId::FromArn(config.redrive_policy->dead_letter_target_arn);
  Result<QueuePtr> dlq = target ? GetQueue(*target) : Result<QueuePtr>(NonExistentQueue());
  if (!dlq.ok()) {
    // AWS keeps such messages in the source queue; so do we, visible again.
    for (auto& m : messages) m.state.visible_at_ms = clock_.NowMillis();
    source->Insert(std::move(messages));
    return;
  }
  QueuePtr dead = *dlq;
  if (dead->fifo() != source->fifo()) {
    // The target was re-created as the other type: keep the messages where they are.
    for (auto& m : messages) m.state.visible_at_ms = clock_.NowMillis();
    source->Insert(std::move(messages));
    return;
  }
  source->stats().dead_lettered.Add(messages.size());
  // Source delete and target put go in one atomic batch: a crash keeps the message in one of
  // the two queues, never in neither.
  storage::WriteBatch batch;
  uint64_t seq = dead->ReserveSeqs(messages.size());
  // A dead-letter queue that itself redrives (a chain, a cycle, itself) would move a message
  // that arrives at its own maxReceiveCount straight on at every receive; such a message is
  // counted afresh there instead.
  const QueueConfig dead_config = dead->config();
  const uint32_t dead_max_receives =
      dead_config.redrive_policy ? uint32_t(dead_config.redrive_policy->max_receive_count) : 0;
  for (auto& m : messages) {
    batch.DeleteMessage(source->storage_id(), m.seq);
    m.seq = seq++;
    // Visible at once; ApproximateReceiveCount and ApproximateFirstReceiveTimestamp go on
    // from where the source left them, as on AWS.
    m.state.visible_at_ms = clock_.NowMillis();
    if (dead_max_receives > 0 && m.state.receive_count >= dead_max_receives) {
      m.state.receive_count = 0;
      m.state.first_receive_ms = 0;
    }
    m.dead_letter_source_arn = source->id().Arn();
    if (dead->fifo()) m.sequence_number = SequenceNumber(m.seq);
    batch.PutMessage(dead->storage_id(), m.seq, EncodeMessage(m), m.state);
  }
  // Queued for storage before the messages can be received, so that a delete from the
  // dead-letter queue is always committed after their put.
  PersistLazily(std::move(batch));
  dead->Insert(std::move(messages));
}

void QueueService::DeleteMessage(const QueuePtr& queue, const std::string& receipt_handle,
                                 StatusCallback done) {
  DeleteMessages(queue, {receipt_handle}, [done = std::move(done)](Result<std::vector<Status>> r) {
    done(r.ok() ? r->front() : r.status());
  });
}

// Answers `done` with `results` once `batch` is written. An empty batch is committed too: a
// repeated delete of a message whose first delete is still being written (or is kept for
// writing after a failure) is answered only once that one is stored.
void QueueService::AnswerOnceStored(storage::WriteBatch batch, std::vector<Status> results,
                                    StatusesCallback done) {
  PersistLazily(std::move(batch),
                [results = std::move(results), done = std::move(done)](Status s) mutable {
                  if (!s.ok()) return done(s);
                  done(std::move(results));
                });
}

void QueueService::DeleteMessages(const QueuePtr& queue,
                                  const std::vector<std::string>& receipt_handles,
                                  StatusesCallback done) {
  // Asked even when a handle names a message already gone (answered 200 either way): while
  // storage cannot write, a delete must not be acknowledged that it may not hold.
  if (Status s = engine_.Accepts(storage::SpaceUse::kShrinks); !s.ok()) return done(s);
  std::vector<Status> results;
  results.reserve(receipt_handles.size());
  storage::WriteBatch batch;
  for (const auto& handle : receipt_handles) {
    auto removed = queue->Delete(handle);
    if (removed.ok() && removed->found) {
      batch.DeleteMessage(queue->storage_id(), removed->seq);
      queue->stats().deleted.Add();
    }
    results.push_back(removed.ok() ? Status::Ok() : removed.status());
  }
  AnswerOnceStored(std::move(batch), std::move(results), std::move(done));
}

void QueueService::ChangeMessageVisibility(const QueuePtr& queue, const std::string& receipt_handle,
                                           int visibility_timeout, StatusCallback done) {
  ChangeMessageVisibilities(queue, {{receipt_handle, visibility_timeout}},
                            [done = std::move(done)](Result<std::vector<Status>> r) {
                              done(r.ok() ? r->front() : r.status());
                            });
}

void QueueService::ChangeMessageVisibilities(const QueuePtr& queue,
                                             const std::vector<VisibilityChange>& changes,
                                             StatusesCallback done) {
  if (Status s = engine_.Accepts(storage::SpaceUse::kShrinks); !s.ok()) return done(s);
  std::vector<Status> results;
  results.reserve(changes.size());
  storage::WriteBatch batch;
  for (const auto& change : changes) {
    const int timeout = change.visibility_timeout;
    if (timeout < 0 || timeout > 43'200) {
      results.emplace_back(ErrorCode::kInvalidParameterValue,
                           "Value " + std::to_string(timeout) +
                               " for parameter VisibilityTimeout is invalid. Reason: "
                               "VisibilityTimeout must be an integer between 0 and 43200.");
      continue;
    }
    auto changed = queue->ChangeVisibility(change.receipt_handle, timeout);
    if (!changed.ok()) {
      results.push_back(changed.status());
      continue;
    }
    if (*changed) batch.UpdateState(queue->storage_id(), (*changed)->first, (*changed)->second);
    results.push_back(Status::Ok());
  }
  AnswerOnceStored(std::move(batch), std::move(results), std::move(done));
}

void QueueService::SweepExpired() {
  // Sweeps change memory before they store: while storage cannot write, they wait.
  if (!engine_.Accepts(storage::SpaceUse::kShrinks).ok()) return;
  std::vector<QueuePtr> queues;
  {
    std::shared_lock lock(mu_);
    for (const auto& [key, queue] : queues_) queues.push_back(queue);
  }
  const int64_t now = clock_.NowMillis();
  for (const auto& queue : queues) {
    // A FIFO send holds this from its claim to its commit: a key swept here and claimed again
    // at once must have its delete submitted before the new claim's put, or storage would lose
    // the new record while memory keeps it.
    std::unique_lock<std::mutex> order_lock;
    if (queue->fifo()) order_lock = std::unique_lock(queue->send_order_mutex());
    storage::WriteBatch batch;
    for (uint64_t seq : queue->SweepExpired()) {
      batch.DeleteMessage(queue->storage_id(), seq);
      queue->stats().expired.Add();
    }
    for (const auto& key : queue->deduplication().SweepExpired(now)) {
      batch.DeleteRecord(storage::RecordKind::kDeduplication, queue->storage_id(),
                         DeduplicationRecordKey(key));
    }
    if (!batch.empty()) PersistLazily(std::move(batch));
  }
}

}  // namespace postbox::core
