// QueueService: queues themselves (create, delete, attributes, tags, redrive checks). Every
// change goes through the ConfigStore: checked against the state left by every earlier change,
// stored, and only then applied to memory and answered.
#include <algorithm>
#include <mutex>
#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "core/queue/queue_service.h"
#include "core/queue/queue_service_internal.h"

namespace postbox::core {
namespace {

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

Status InvalidRedrivePolicy(const QueueConfig& config, const std::string& reason) {
  return Status(ErrorCode::kInvalidParameterValue, "Value " + config.redrive_policy_json +
                                                       " for parameter RedrivePolicy is invalid. "
                                                       "Reason: " +
                                                       reason);
}

bool IsFifoName(const std::string& name) {
  return name.size() > 5 && name.compare(name.size() - 5, 5, ".fifo") == 0;
}

// CreateQueue's checks that need no state: the name, FifoQueue against it, the attributes.
Result<QueueConfig> CheckNewQueue(const QueueId& id, const AttributeMap& attributes,
                                  const AttributeMap& tags) {
  POSTBOX_RETURN_IF_ERROR(ValidateQueueName(id.name));
  const bool fifo_name = IsFifoName(id.name);
  auto fifo_attr = attributes.find("FifoQueue");
  bool fifo_requested = false;
  if (fifo_attr != attributes.end()) {
    std::string value = fifo_attr->second;
    for (char& c : value) c = char(std::tolower(uint8_t(c)));
    fifo_requested = value == "true";
    if (!fifo_requested && !fifo_name && value == "false") {
      // A standard queue has no FifoQueue attribute at all (AWS-recorded answer).
      return Status(ErrorCode::kInvalidAttributeName, "Unknown Attribute FifoQueue.");
    }
  }
  if (fifo_name && !fifo_requested) {
    // Without FifoQueue=true this is a standard queue, and ".fifo" is not a standard name.
    return Status(ErrorCode::kInvalidParameterValue,
                  "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in "
                  "length");
  }
  if (fifo_requested && !fifo_name) {
    return Status(ErrorCode::kInvalidParameterValue,
                  "The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
                  "underscores, must end with .fifo suffix and be 1 to 80 in length.");
  }
  POSTBOX_RETURN_IF_ERROR(CheckFifoAttributes(attributes, fifo_name));
  QueueConfig config;
  POSTBOX_RETURN_IF_ERROR(config.CheckEncryptionRequest(attributes));
  POSTBOX_RETURN_IF_ERROR(config.Apply(attributes, /*creating=*/true));
  if (tags.size() > 50) {
    return Status(ErrorCode::kInvalidParameterValue,
                  "Too many tags added for queue " + id.name + ".");
  }
  return config;
}

}  // namespace

Status ValidateQueueName(const std::string& name) {
  std::string base = name;
  if (IsFifoName(base)) base.resize(base.size() - 5);
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

bool QueueService::IsRegistered(const QueuePtr& queue) const {
  std::shared_lock lock(mu_);
  auto it = queues_.find(queue->id().Key());
  return it != queues_.end() && it->second == queue;
}

void QueueService::CreateQueue(QueueId id, AttributeMap attributes, AttributeMap tags,
                               std::function<void(Result<QueuePtr>)> done) {
  auto checked = CheckNewQueue(id, attributes, tags);
  if (!checked.ok()) return done(checked.status());
  config_.Submit([this, id = std::move(id), attributes = std::move(attributes),
                  tags = std::move(tags), config = std::move(*checked),
                  done = std::move(done)]() -> ConfigStore::Change {
    auto answer = [done](Result<QueuePtr> r) {
      return ConfigStore::Answer([done, r = std::move(r)](Status) { done(r); });
    };
    {
      std::unique_lock lock(mu_);
      auto existing = queues_.find(id.Key());
      if (existing != queues_.end()) {
        // Same name and same attribute values: CreateQueue is idempotent (and the existing
        // queue is durable: it is registered only once stored).
        QueueConfig current = existing->second->config();
        QueueConfig wanted = current;
        Status s = wanted.Apply(attributes, /*creating=*/true);
        auto have = current.ToAttributes();
        for (const auto& [name, value] : wanted.ToAttributes()) {
          if (!s.ok() || have[name] != value) {
            return answer(Status(ErrorCode::kQueueAlreadyExists,
                                 "A queue already exists with the same name and a different "
                                 "value for attribute " +
                                     name));
          }
        }
        return answer(existing->second);
      }
      auto deleted = deleted_at_ms_.find(id.Key());
      if (deleted != deleted_at_ms_.end()) {
        if (clock_.MonotonicMillis() - deleted->second < kRecreateDelayMs) {
          return answer(Status(ErrorCode::kQueueDeletedRecently,
                               "You must wait 60 seconds after deleting a queue before you can "
                               "create another queue with the same name."));
        }
        deleted_at_ms_.erase(deleted);
      }
    }
    if (Status s = CheckRedriveTarget(id, config); !s.ok()) return answer(s);
    auto queue = std::make_shared<Queue>(id, RandomUint64(), config, tags,
                                         clock_.NowMillis() / 1000, clock_);
    queue->EnsureSeqAbove(SeqBase(clock_));
    storage::WriteBatch batch;
    batch.PutQueue(queue->storage_id(), EncodeQueue(*queue, config, tags));
    // Registered only once durable: no send can be stored for a queue that is not.
    return {std::move(batch), [this, queue, done](Status s) {
              if (!s.ok()) return done(s);
              {
                std::unique_lock lock(mu_);
                queues_[queue->id().Key()] = queue;
              }
              done(queue);
            }};
  });
}

std::vector<QueuePtr> QueueService::AllQueues() const {
  std::vector<QueuePtr> out;
  {
    std::shared_lock lock(mu_);
    out.reserve(queues_.size());
    for (const auto& [key, queue] : queues_) out.push_back(queue);
  }
  std::sort(out.begin(), out.end(),
            [](const QueuePtr& a, const QueuePtr& b) { return a->id().Key() < b->id().Key(); });
  return out;
}

void QueueService::DeleteQueue(const QueuePtr& queue, StatusCallback done) {
  config_.Submit([this, queue, done = std::move(done)]() -> ConfigStore::Change {
    if (!IsRegistered(queue)) {
      return ConfigStore::Answer([done](Status) { done(NonExistentQueue()); });
    }
    storage::WriteBatch batch;
    batch.DeleteQueue(queue->storage_id());
    // Sends that race the delete may still be stored after it; the next start drops them
    // with the queue (and memory drops them now), as AWS loses messages sent to a queue
    // being deleted.
    return {std::move(batch), [this, queue, done](Status s) {
              if (s.ok()) {
                {
                  std::unique_lock lock(mu_);
                  queues_.erase(queue->id().Key());
                  deleted_at_ms_[queue->id().Key()] = clock_.MonotonicMillis();
                }
                queue->MarkDeleted();
              }
              done(s);
            }};
  });
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

void QueueService::ChangeQueue(const QueuePtr& queue, QueueEdit edit, StatusCallback done) {
  config_.Submit(
      [this, queue, edit = std::move(edit), done = std::move(done)]() -> ConfigStore::Change {
        // A queue deleted meanwhile stays deleted: its record is not written again.
        if (!IsRegistered(queue)) {
          return ConfigStore::Answer([done](Status) { done(NonExistentQueue()); });
        }
        QueueConfig config = queue->config();
        AttributeMap tags = queue->tags();
        if (Status s = edit(config, tags); !s.ok()) {
          return ConfigStore::Answer([done, s](Status) { done(s); });
        }
        storage::WriteBatch batch;
        batch.PutQueue(queue->storage_id(), EncodeQueue(*queue, config, tags));
        return {std::move(batch), [this, queue, config, tags, done](Status s) {
                  if (s.ok()) {
                    queue->SetConfig(config, clock_.NowMillis() / 1000);
                    queue->SetTags(tags);
                  }
                  done(s);
                }};
      });
}

void QueueService::SetAttributes(const QueuePtr& queue, const AttributeMap& attributes,
                                 StatusCallback done) {
  ChangeQueue(
      queue,
      [this, queue, attributes](QueueConfig& config, AttributeMap&) {
        POSTBOX_RETURN_IF_ERROR(CheckFifoAttributes(attributes, config.fifo_queue));
        POSTBOX_RETURN_IF_ERROR(config.CheckEncryptionRequest(attributes));
        POSTBOX_RETURN_IF_ERROR(config.Apply(attributes, /*creating=*/false));
        if (attributes.count("RedrivePolicy")) {
          POSTBOX_RETURN_IF_ERROR(CheckRedriveTarget(queue->id(), config));
        }
        return Status::Ok();
      },
      std::move(done));
}

void QueueService::TagQueue(const QueuePtr& queue, const AttributeMap& tags, StatusCallback done) {
  ChangeQueue(
      queue,
      [queue, tags](QueueConfig&, AttributeMap& current) {
        AttributeMap merged = current;
        for (const auto& [key, value] : tags) merged[key] = value;
        if (merged.size() > 50) {
          return Status(ErrorCode::kInvalidParameterValue,
                        "Too many tags added for queue " + queue->id().name + ".");
        }
        current = std::move(merged);
        return Status::Ok();
      },
      std::move(done));
}

void QueueService::UntagQueue(const QueuePtr& queue, const std::vector<std::string>& keys,
                              StatusCallback done) {
  ChangeQueue(
      queue,
      [keys](QueueConfig&, AttributeMap& current) {
        for (const auto& key : keys) current.erase(key);
        return Status::Ok();
      },
      std::move(done));
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

}  // namespace postbox::core
