// QueueService::Load: rebuilding queues, messages and FIFO deduplication windows from storage
// at start-up.
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "core/queue/message_codec.h"
#include "core/queue/queue_service.h"
#include "core/queue/queue_service_internal.h"

namespace postbox::core {

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
    AttributeMap attributes = j.value("attributes", AttributeMap{});
    // Versions before access policies were evaluated kept any JSON as a queue's Policy. One
    // that is not a policy postbox can evaluate is kept as text but grants nothing (and the
    // start goes on): what it meant to allow stays refused until it is set again.
    std::string unreadable_policy;
    if (auto it = attributes.find("Policy");
        it != attributes.end() && !it->second.empty() &&
        !policy::ParsePolicy(it->second, policy::PolicyKind::kResource).ok()) {
      unreadable_policy = std::move(it->second);
      attributes.erase(it);
    }
    Status s = config.Apply(attributes, /*creating=*/true);
    if (!s.ok()) {
      status = s;
      return;
    }
    if (!unreadable_policy.empty()) {
      spdlog::warn(
          "event=queue_policy_unreadable queue={} action=\"the queue's Policy grants nothing "
          "until it is set again (SetQueueAttributes)\"",
          id.Arn());
      config.policy_json = std::move(unreadable_policy);
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
  constexpr size_t kRecordsPerRewrite = 4096;  // about 400 KB a batch
  std::vector<storage::WriteBatch> rewrites;
  size_t in_last_rewrite = 0;
  POSTBOX_RETURN_IF_ERROR(engine_.LoadRecords(
      storage::RecordKind::kDeduplication,
      [&](uint64_t queue_id, std::string_view key, std::string_view blob) {
        auto entry = DeduplicationEntry::Decode(blob);
        auto queue = by_storage_id.find(queue_id);
        if (!entry || queue == by_storage_id.end() || entry->expires_ms <= now) {
          orphans.DeleteRecord(storage::RecordKind::kDeduplication, queue_id, std::string(key));
          return;
        }
        const DeduplicationHash hash = HashOfRecordKey(key);
        queue->second->deduplication().Restore(hash, *entry, now);
        if (IsLegacyRecordKey(key)) {
          // Written before entries were hashed: stored again under the hash, in the binary
          // form, delete and put in one batch (until it is written, the next start converts
          // it again). In batches of bounded size, as a storage write must be.
          if (rewrites.empty() || in_last_rewrite == kRecordsPerRewrite) {
            rewrites.emplace_back();
            in_last_rewrite = 0;
          }
          ++in_last_rewrite;
          rewrites.back().DeleteRecord(storage::RecordKind::kDeduplication, queue_id,
                                       std::string(key));
          rewrites.back().PutRecord(storage::RecordKind::kDeduplication, queue_id,
                                    DeduplicationRecordKey(hash), entry->Encode());
        }
      }));
  if (!orphans.empty()) PersistLazily(std::move(orphans));
  for (auto& rewrite : rewrites) PersistLazily(std::move(rewrite));
  return Status::Ok();
}

}  // namespace postbox::core
