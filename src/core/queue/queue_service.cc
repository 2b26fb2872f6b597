#include "core/queue/queue_service.h"

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "base/md5_many.h"
#include "core/queue/message_codec.h"
#include "core/queue/message_rules.h"

namespace postbox::core {
namespace {

// AWS refuses to re-create a queue name for 60 s after deleting it.
constexpr int64_t kRecreateDelayMs = 60'000;

// Seqs restart above (start-up time in ms << 10) so that a receipt handle issued before a
// restart can never name a different message after it (unless >1M messages/s were sent).
uint64_t SeqBase(const Clock& clock) { return uint64_t(clock.NowMillis()) << 10; }

Status NonExistentQueue() {
  return Status(ErrorCode::kQueueDoesNotExist, "The specified queue does not exist.");
}

const std::vector<std::string>& ComputedAttributeNames() {
  static const std::vector<std::string> names = {"ApproximateNumberOfMessages",
                                                 "ApproximateNumberOfMessagesNotVisible",
                                                 "ApproximateNumberOfMessagesDelayed",
                                                 "CreatedTimestamp",
                                                 "LastModifiedTimestamp",
                                                 "QueueArn"};
  return names;
}

bool IsKnownAttribute(const std::string& name) {
  static const std::vector<std::string> settable = {"DelaySeconds",
                                                    "MaximumMessageSize",
                                                    "MessageRetentionPeriod",
                                                    "ReceiveMessageWaitTimeSeconds",
                                                    "VisibilityTimeout",
                                                    "RedrivePolicy",
                                                    "RedriveAllowPolicy",
                                                    "Policy",
                                                    "FifoQueue",
                                                    "ContentBasedDeduplication",
                                                    "DeduplicationScope",
                                                    "FifoThroughputLimit",
                                                    "KmsMasterKeyId",
                                                    "KmsDataKeyReusePeriodSeconds",
                                                    "SqsManagedSseEnabled"};
  const auto& computed = ComputedAttributeNames();
  return std::find(settable.begin(), settable.end(), name) != settable.end() ||
         std::find(computed.begin(), computed.end(), name) != computed.end();
}

// FIFO-only attributes are refused on a standard queue, with AWS's words for each.
Status CheckFifoAttributes(const AttributeMap& attributes, bool fifo) {
  if (fifo) return Status::Ok();
  if (attributes.count("ContentBasedDeduplication")) {
    return Status(ErrorCode::kInvalidAttributeName, "Unknown Attribute ContentBasedDeduplication.");
  }
  for (const char* name : {"DeduplicationScope", "FifoThroughputLimit"}) {
    if (attributes.count(name)) {
      return Status(ErrorCode::kInvalidAttributeName, std::string("You can specify the ") + name +
                                                          " only when FifoQueue is set to true.");
    }
  }
  return Status::Ok();
}

// The key a FIFO send is deduplicated by: per queue, or per message group in high-throughput
// mode. Both ids are printable ASCII, so a newline cannot be part of either.
std::string DeduplicationKey(const QueueConfig& config, const std::string& group,
                             const std::string& deduplication_id) {
  if (!config.per_group_deduplication()) return deduplication_id;
  return group + "\n" + deduplication_id;
}

Status InvalidRedrivePolicy(const QueueConfig& config, const std::string& reason) {
  return Status(ErrorCode::kInvalidParameterValue, "Value " + config.redrive_policy_json +
                                                       " for parameter RedrivePolicy is invalid. "
                                                       "Reason: " +
                                                       reason);
}

}  // namespace

std::string SequenceNumber(uint64_t seq) {
  constexpr uint64_t kLeadingOne = 10'000'000'000'000'000'000ULL;
  char text[24];
  std::snprintf(text, sizeof(text), "%llu", static_cast<unsigned long long>(kLeadingOne + seq));
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

Status ValidateQueueName(const std::string& name) {
  std::string base = name;
  if (base.size() > 5 && base.compare(base.size() - 5, 5, ".fifo") == 0) {
    base.resize(base.size() - 5);
  }
  bool ok = !name.empty() && name.size() <= 80;
  for (char c : base) {
    ok = ok && (std::isalnum(uint8_t(c)) || c == '-' || c == '_');
  }
  if (!ok) {
    return Status(ErrorCode::kInvalidParameterValue,
                  "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in "
                  "length");
  }
  return Status::Ok();
}

QueueService::QueueService(storage::Engine& engine, const Clock& clock)
    : engine_(engine), clock_(clock) {}

std::string QueueService::EncodeQueue(const Queue& queue, const QueueConfig& config,
                                      const AttributeMap& tags) const {
  nlohmann::json j = {
      {"region", queue.id().region},
      {"account", queue.id().account},
      {"name", queue.id().name},
      {"created", queue.created_seconds()},
      {"attributes", config.ToAttributes()},
      {"tags", tags},
  };
  return j.dump();
}

Status QueueService::Load() {
  std::unordered_map<uint64_t, QueuePtr> by_storage_id;
  Status status;
  POSTBOX_RETURN_IF_ERROR(engine_.LoadQueues([&](uint64_t storage_id, std::string_view blob) {
    nlohmann::json j = nlohmann::json::parse(blob, nullptr, false);
    if (!j.is_object()) {
      status = Status(ErrorCode::kStorageError, "corrupt queue record");
      return;
    }
    QueueId id{j.value("region", ""), j.value("account", ""), j.value("name", "")};
    QueueConfig config;
    Status s = config.Apply(j.value("attributes", AttributeMap{}), /*creating=*/true);
    if (!s.ok()) {
      status = s;
      return;
    }
    auto queue = std::make_shared<Queue>(id, storage_id, config, j.value("tags", AttributeMap{}),
                                         j.value("created", int64_t{0}), clock_);
    queue->EnsureSeqAbove(SeqBase(clock_));
    by_storage_id[storage_id] = queue;
    queues_[id.Key()] = queue;
  }));
  POSTBOX_RETURN_IF_ERROR(status);

  std::unordered_map<uint64_t, std::vector<Message>> loaded;
  storage::WriteBatch orphans;
  POSTBOX_RETURN_IF_ERROR(engine_.LoadMessages(
      [&](uint64_t queue_id, uint64_t seq, std::string_view blob, const storage::MessageState& st) {
        if (!by_storage_id.count(queue_id)) {
          // Written after its queue was deleted (a send racing DeleteQueue): drop it.
          orphans.DeleteMessage(queue_id, seq);
          return;
        }
        Message m;
        Status s = DecodeMessage(blob, &m);
        if (!s.ok()) {
          status = s;
          return;
        }
        m.seq = seq;
        m.state = st;
        if (by_storage_id[queue_id]->fifo()) m.sequence_number = SequenceNumber(seq);
        loaded[queue_id].push_back(std::move(m));
      }));
  POSTBOX_RETURN_IF_ERROR(status);
  for (auto& [queue_id, messages] : loaded) {
    by_storage_id[queue_id]->Insert(std::move(messages));
  }
  const int64_t now = clock_.NowMillis();
  POSTBOX_RETURN_IF_ERROR(engine_.LoadRecords(
      storage::RecordKind::kDeduplication,
      [&](uint64_t queue_id, std::string_view key, std::string_view blob) {
        auto entry = DeduplicationEntry::Decode(blob);
        auto queue = by_storage_id.find(queue_id);
        if (!entry || queue == by_storage_id.end() || entry->expires_ms <= now) {
          orphans.DeleteRecord(storage::RecordKind::kDeduplication, queue_id, std::string(key));
          return;
        }
        queue->second->deduplication().Restore(std::string(key), std::move(*entry), now);
      }));
  if (!orphans.empty()) PersistLazily(std::move(orphans));
  return Status::Ok();
}

void QueueService::CreateQueue(QueueId id, AttributeMap attributes, AttributeMap tags,
                               std::function<void(Result<QueuePtr>)> done) {
  if (Status s = ValidateQueueName(id.name); !s.ok()) return done(s);
  bool fifo_name = id.name.size() > 5 && id.name.compare(id.name.size() - 5, 5, ".fifo") == 0;
  auto fifo_attr = attributes.find("FifoQueue");
  bool fifo_requested = false;
  if (fifo_attr != attributes.end()) {
    std::string value = fifo_attr->second;
    for (char& c : value) c = char(std::tolower(uint8_t(c)));
    fifo_requested = value == "true";
    if (!fifo_requested && !fifo_name && value == "false") {
      // A standard queue has no FifoQueue attribute at all (AWS-recorded answer).
      return done(Status(ErrorCode::kInvalidAttributeName, "Unknown Attribute FifoQueue."));
    }
  }
  if (fifo_name && !fifo_requested) {
    // Without FifoQueue=true this is a standard queue, and ".fifo" is not a standard name.
    return done(Status(ErrorCode::kInvalidParameterValue,
                       "Can only include alphanumeric characters, hyphens, or underscores. 1 to "
                       "80 in length"));
  }
  if (fifo_requested && !fifo_name) {
    return done(Status(ErrorCode::kInvalidParameterValue,
                       "The name of a FIFO queue can only include alphanumeric characters, "
                       "hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in "
                       "length."));
  }
  if (Status s = CheckFifoAttributes(attributes, fifo_name); !s.ok()) return done(s);
  QueueConfig config;
  if (Status s = config.Apply(attributes, /*creating=*/true); !s.ok()) return done(s);
  if (Status s = CheckRedriveTarget(id, config); !s.ok()) return done(s);
  if (tags.size() > 50) {
    return done(Status(ErrorCode::kInvalidParameterValue,
                       "Too many tags added for queue " + id.name + "."));
  }

  QueuePtr queue;
  {
    std::unique_lock lock(mu_);
    auto existing = queues_.find(id.Key());
    if (existing != queues_.end()) {
      // Same name and same attribute values: CreateQueue is idempotent.
      QueueConfig current = existing->second->config();
      QueueConfig wanted = current;
      Status s = wanted.Apply(attributes, /*creating=*/true);
      auto have = current.ToAttributes();
      auto want = wanted.ToAttributes();
      for (const auto& [name, value] : want) {
        if (!s.ok() || have[name] != value) {
          return done(Status(ErrorCode::kQueueAlreadyExists,
                             "A queue already exists with the same name and a different value "
                             "for attribute " +
                                 name));
        }
      }
      return done(existing->second);
    }
    auto deleted = deleted_at_ms_.find(id.Key());
    if (deleted != deleted_at_ms_.end()) {
      if (clock_.MonotonicMillis() - deleted->second < kRecreateDelayMs) {
        return done(Status(ErrorCode::kQueueDeletedRecently,
                           "You must wait 60 seconds after deleting a queue before you can "
                           "create another queue with the same name."));
      }
      deleted_at_ms_.erase(deleted);
    }
    queue = std::make_shared<Queue>(id, RandomUint64(), config, tags, clock_.NowMillis() / 1000,
                                    clock_);
    queue->EnsureSeqAbove(SeqBase(clock_));
    // Reserve the name now so a concurrent create sees it; undone if storage fails.
    queues_[id.Key()] = queue;
  }
  storage::WriteBatch batch;
  batch.PutQueue(queue->storage_id(), EncodeQueue(*queue, config, tags));
  engine_.Commit(std::move(batch), storage::Durability::kSync,
                 [this, queue, done = std::move(done)](Status s) {
                   if (!s.ok()) {
                     std::unique_lock lock(mu_);
                     queues_.erase(queue->id().Key());
                     return done(s);
                   }
                   done(queue);
                 });
}

Result<QueuePtr> QueueService::GetQueue(const QueueId& id) const {
  std::shared_lock lock(mu_);
  auto it = queues_.find(id.Key());
  if (it == queues_.end()) return NonExistentQueue();
  return it->second;
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

void QueueService::DeleteQueue(const QueuePtr& queue, StatusCallback done) {
  {
    std::unique_lock lock(mu_);
    auto it = queues_.find(queue->id().Key());
    if (it == queues_.end() || it->second != queue) return done(NonExistentQueue());
    queues_.erase(it);
    deleted_at_ms_[queue->id().Key()] = clock_.MonotonicMillis();
  }
  queue->MarkDeleted();
  storage::WriteBatch batch;
  batch.DeleteQueue(queue->storage_id());
  engine_.Commit(std::move(batch), storage::Durability::kSync, std::move(done));
}

Result<AttributeMap> QueueService::GetAttributes(const Queue& queue,
                                                 const std::vector<std::string>& names) const {
  bool all = false;
  for (const auto& name : names) {
    if (name == "All") {
      all = true;
    } else if (!IsKnownAttribute(name)) {
      return Status(ErrorCode::kInvalidAttributeName, "Unknown Attribute " + name + ".");
    }
  }
  AttributeMap attributes = queue.config().ToAttributes();
  QueueCounters counters = queue.Counters();
  attributes["ApproximateNumberOfMessages"] = std::to_string(counters.visible);
  attributes["ApproximateNumberOfMessagesNotVisible"] = std::to_string(counters.not_visible);
  attributes["ApproximateNumberOfMessagesDelayed"] = std::to_string(counters.delayed);
  attributes["CreatedTimestamp"] = std::to_string(queue.created_seconds());
  attributes["LastModifiedTimestamp"] = std::to_string(queue.last_modified_seconds());
  attributes["QueueArn"] = queue.id().Arn();
  if (all) return attributes;
  AttributeMap selected;
  for (const auto& name : names) {
    auto it = attributes.find(name);
    if (it != attributes.end()) selected.insert(*it);
  }
  return selected;
}

void QueueService::PersistQueue(const QueuePtr& queue, const QueueConfig& config,
                                const AttributeMap& tags, StatusCallback done) {
  storage::WriteBatch batch;
  batch.PutQueue(queue->storage_id(), EncodeQueue(*queue, config, tags));
  engine_.Commit(std::move(batch), storage::Durability::kSync, std::move(done));
}

void QueueService::SetAttributes(const QueuePtr& queue, const AttributeMap& attributes,
                                 StatusCallback done) {
  QueueConfig config = queue->config();
  if (Status s = CheckFifoAttributes(attributes, config.fifo_queue); !s.ok()) return done(s);
  if (Status s = config.Apply(attributes, /*creating=*/false); !s.ok()) return done(s);
  if (attributes.count("RedrivePolicy")) {
    if (Status s = CheckRedriveTarget(queue->id(), config); !s.ok()) return done(s);
  }
  AttributeMap tags = queue->tags();
  PersistQueue(queue, config, tags, [this, queue, config, done = std::move(done)](Status s) {
    if (s.ok()) queue->SetConfig(config, clock_.NowMillis() / 1000);
    done(s);
  });
}

void QueueService::Purge(const QueuePtr& queue, StatusCallback done) {
  if (!queue->Purge()) {
    return done(Status(
        ErrorCode::kPurgeQueueInProgress,
        "Only one PurgeQueue operation on " + queue->id().name + " is allowed every 60 seconds."));
  }
  storage::WriteBatch batch;
  batch.Purge(queue->storage_id());
  engine_.Commit(std::move(batch), storage::Durability::kSync, std::move(done));
}

void QueueService::TagQueue(const QueuePtr& queue, const AttributeMap& tags, StatusCallback done) {
  AttributeMap merged = queue->tags();
  for (const auto& [key, value] : tags) merged[key] = value;
  if (merged.size() > 50) {
    return done(Status(ErrorCode::kInvalidParameterValue,
                       "Too many tags added for queue " + queue->id().name + "."));
  }
  PersistQueue(queue, queue->config(), merged, [queue, merged, done = std::move(done)](Status s) {
    if (s.ok()) queue->SetTags(merged);
    done(s);
  });
}

void QueueService::UntagQueue(const QueuePtr& queue, const std::vector<std::string>& keys,
                              StatusCallback done) {
  AttributeMap remaining = queue->tags();
  for (const auto& key : keys) remaining.erase(key);
  PersistQueue(queue, queue->config(), remaining,
               [queue, remaining, done = std::move(done)](Status s) {
                 if (s.ok()) queue->SetTags(remaining);
                 done(s);
               });
}

Status QueueService::CheckRedriveTarget(const QueueId& source, const QueueConfig& config) const {
  if (!config.redrive_policy) return Status::Ok();
  auto target_id = QueueId::FromArn(config.redrive_policy->dead_letter_target_arn);
  Result<QueuePtr> target = target_id ? GetQueue(*target_id) : Result<QueuePtr>(NonExistentQueue());
  if (!target.ok()) return InvalidRedrivePolicy(config, "Dead letter target does not exist.");
  const QueueConfig target_config = (*target)->config();
  if (target_config.fifo_queue != config.fifo_queue) {
    return InvalidRedrivePolicy(config,
                                // Two periods: AWS's text, verbatim.
                                "Dead-letter queue must be same type of queue as the source..");
  }
  if (!target_config.redrive_allow_policy.Allows(source.Arn())) {
    // AWS's wording for this case is not documented; the code and prefix are its usual ones.
    return InvalidRedrivePolicy(config, "Queue " + source.Arn() + " is not allowed to use " +
                                            (*target)->id().Arn() +
                                            " as its dead-letter queue by the target's "
                                            "RedriveAllowPolicy.");
  }
  return Status::Ok();
}

std::vector<QueueId> QueueService::ListDeadLetterSourceQueues(const Queue& queue) const {
  std::vector<QueueId> sources;
  const std::string arn = queue.id().Arn();
  std::shared_lock lock(mu_);
  for (const auto& [key, candidate] : queues_) {
    QueueConfig config = candidate->config();
    if (config.redrive_policy && config.redrive_policy->dead_letter_target_arn == arn) {
      sources.push_back(candidate->id());
    }
  }
  std::sort(sources.begin(), sources.end(),
            [](const QueueId& a, const QueueId& b) { return a.name < b.name; });
  return sources;
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
                                std::function<void(std::vector<Result<SentMessage>>)> done) {
  auto results = std::make_shared<std::vector<Result<SentMessage>>>();
  results->reserve(messages.size());
  std::vector<Message> accepted;
  const QueueConfig config = queue->config();
  const bool fifo = queue->fifo();
  const int64_t now = clock_.NowMillis();
  // FIFO: seqs are the order within a group, so reserving them and submitting the batch must
  // not interleave with another send (storage commits in submission order).
  std::unique_lock<std::mutex> order_lock;
  if (fifo) order_lock = std::unique_lock(queue->send_order_mutex());
  uint64_t seq = queue->ReserveSeqs(messages.size());
  storage::WriteBatch batch;
  // Deduplication keys this send claimed, released again if the batch is not stored.
  auto claimed = std::make_shared<std::vector<std::pair<std::string, std::string>>>();
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
    m.message_id = NewUuid();
    m.sent_ms = now;
    m.sender_id = sender_id;
    m.md5_of_body = std::move(body_md5s[i]);
    m.md5_of_attributes = Md5OfAttributes(in.attributes);
    m.md5_of_system_attributes = Md5OfAttributes(in.system_attributes);
    if (fifo) {
      // ContentBasedDeduplication: the id is the SHA-256 of the body (not the attributes).
      m.message_deduplication_id = in.message_deduplication_id.empty()
                                       ? Sha256Hex(in.body)
                                       : std::move(in.message_deduplication_id);
      m.sequence_number = SequenceNumber(m.seq);
      std::string key = DeduplicationKey(config, *in.message_group_id, m.message_deduplication_id);
      DeduplicationEntry entry{m.message_id, m.sequence_number, now + kDeduplicationIntervalMs};
      if (auto original = queue->deduplication().Claim(key, entry, now)) {
        // Accepted, not enqueued again: the answer names the first send's message.
        results->push_back(SentMessage{original->message_id, m.md5_of_body, m.md5_of_attributes,
                                       m.md5_of_system_attributes, original->sequence_number});
        duplicates = true;
        continue;
      }
      batch.PutRecord(storage::RecordKind::kDeduplication, queue->storage_id(), key,
                      entry.Encode());
      claimed->emplace_back(std::move(key), m.message_id);
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
  auto pending = std::make_shared<std::vector<Message>>(std::move(accepted));
  engine_.Commit(std::move(batch), storage::Durability::kSync,
                 [queue, pending, results, claimed, done = std::move(done)](Status s) {
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
                   queue->Insert(std::move(*pending));
                   done(std::move(*results));
                 });
}

void QueueService::PersistLazily(storage::WriteBatch batch) {
  engine_.Commit(std::move(batch), storage::Durability::kLazy, nullptr);
}

Result<std::vector<ReceivedMessage>> QueueService::Receive(const QueuePtr& queue,
                                                           const ReceiveOptions& options) {
  if (queue->fifo() && !options.receive_request_attempt_id.empty()) {
    POSTBOX_RETURN_IF_ERROR(
        ValidateFifoToken("ReceiveRequestAttemptId", options.receive_request_attempt_id));
  }
  Queue::ReceiveOutcome outcome = queue->Receive(options);
  POSTBOX_RETURN_IF_ERROR(outcome.status);
  if (!outcome.received.empty() || !outcome.expired.empty()) {
    storage::WriteBatch batch;
    for (const auto& r : outcome.received) {
      batch.UpdateState(queue->storage_id(), r.message->seq, r.message->state);
    }
    for (const auto& m : outcome.expired) batch.DeleteMessage(queue->storage_id(), m.seq);
    PersistLazily(std::move(batch));
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
  // Source delete and target put go in one atomic batch: a crash keeps the message in one of
  // the two queues, never in neither.
  storage::WriteBatch batch;
  uint64_t seq = dead->ReserveSeqs(messages.size());
  for (auto& m : messages) {
    batch.DeleteMessage(source->storage_id(), m.seq);
    m.seq = seq++;
    m.state = storage::MessageState{clock_.NowMillis(), 0, 0};
    m.dead_letter_source_arn = source->id().Arn();
    if (dead->fifo()) m.sequence_number = SequenceNumber(m.seq);
    batch.PutMessage(dead->storage_id(), m.seq, EncodeMessage(m), m.state);
  }
  // Queued for storage before the messages can be received, so that a delete from the
  // dead-letter queue is always committed after their put.
  PersistLazily(std::move(batch));
  dead->Insert(std::move(messages));
}

Status QueueService::DeleteMessage(const QueuePtr& queue, const std::string& receipt_handle) {
  return DeleteMessages(queue, {receipt_handle}).front();
}

std::vector<Status> QueueService::DeleteMessages(const QueuePtr& queue,
                                                 const std::vector<std::string>& receipt_handles) {
  std::vector<Status> results;
  results.reserve(receipt_handles.size());
  storage::WriteBatch batch;
  for (const auto& handle : receipt_handles) {
    auto removed = queue->Delete(handle);
    if (removed.ok() && removed->found) batch.DeleteMessage(queue->storage_id(), removed->seq);
    results.push_back(removed.ok() ? Status::Ok() : removed.status());
  }
  if (!batch.empty()) PersistLazily(std::move(batch));
  return results;
}

Status QueueService::ChangeMessageVisibility(const QueuePtr& queue,
                                             const std::string& receipt_handle,
                                             int visibility_timeout) {
  return ChangeMessageVisibilities(queue, {{receipt_handle, visibility_timeout}}).front();
}

std::vector<Status> QueueService::ChangeMessageVisibilities(
    const QueuePtr& queue, const std::vector<VisibilityChange>& changes) {
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
    batch.UpdateState(queue->storage_id(), changed->first, changed->second);
    results.push_back(Status::Ok());
  }
  if (!batch.empty()) PersistLazily(std::move(batch));
  return results;
}

void QueueService::SweepExpired() {
  std::vector<QueuePtr> queues;
  {
    std::shared_lock lock(mu_);
    for (const auto& [key, queue] : queues_) queues.push_back(queue);
  }
  const int64_t now = clock_.NowMillis();
  for (const auto& queue : queues) {
    storage::WriteBatch batch;
    for (uint64_t seq : queue->SweepExpired()) batch.DeleteMessage(queue->storage_id(), seq);
    for (auto& key : queue->deduplication().SweepExpired(now)) {
      batch.DeleteRecord(storage::RecordKind::kDeduplication, queue->storage_id(), std::move(key));
    }
    if (!batch.empty()) PersistLazily(std::move(batch));
  }
}

}  // namespace postbox::core
