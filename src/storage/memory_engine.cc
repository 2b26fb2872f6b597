#include "storage/memory_engine.h"

namespace postbox::storage {

void MemoryEngine::Commit(WriteBatch batch, Durability /*durability*/, Done done) {
  Status result;
  {
    std::lock_guard lock(mu_);
    result = fail_;
    if (result.ok()) {
      for (const auto& op : batch.ops()) {
        auto queue_range = [&](uint64_t q) {
          return std::pair(messages_.lower_bound({q, 0}), messages_.lower_bound({q + 1, 0}));
        };
        switch (op.kind) {
          case WriteBatch::Kind::kPutQueue:
            queues_[op.queue_id] = op.blob;
            break;
          case WriteBatch::Kind::kDeleteQueue: {
            queues_.erase(op.queue_id);
            auto [b, e] = queue_range(op.queue_id);
            messages_.erase(b, e);
            std::erase_if(records_,
                          [&](const auto& r) { return std::get<1>(r.first) == op.queue_id; });
            break;
          }
          case WriteBatch::Kind::kPurge: {
            auto [b, e] = queue_range(op.queue_id);
            messages_.erase(b, e);
            break;
          }
          case WriteBatch::Kind::kPutMessage:
            messages_[{op.queue_id, op.seq}] = {op.blob, op.state};
            break;
          case WriteBatch::Kind::kUpdateState: {
            auto it = messages_.find({op.queue_id, op.seq});
            if (it != messages_.end()) it->second.state = op.state;
            break;
          }
          case WriteBatch::Kind::kDeleteMessage:
            messages_.erase({op.queue_id, op.seq});
            break;
          case WriteBatch::Kind::kPutRecord:
            records_[{op.record_kind, op.queue_id, op.record_key}] = op.blob;
            break;
          case WriteBatch::Kind::kDeleteRecord:
            records_.erase({op.record_kind, op.queue_id, op.record_key});
            break;
        }
      }
    }
  }
  if (done) done(result);
}

Status MemoryEngine::LoadQueues(const QueueVisitor& visit) {
  std::lock_guard lock(mu_);
  for (const auto& [id, blob] : queues_) visit(id, blob);
  return Status::Ok();
}

Status MemoryEngine::LoadMessages(const MessageVisitor& visit) {
  std::lock_guard lock(mu_);
  for (const auto& [key, m] : messages_) visit(key.first, key.second, m.blob, m.state);
  return Status::Ok();
}

Status MemoryEngine::LoadRecords(RecordKind kind, const RecordVisitor& visit) {
  std::lock_guard lock(mu_);
  for (const auto& [key, blob] : records_) {
    if (std::get<0>(key) == kind) visit(std::get<1>(key), std::get<2>(key), blob);
  }
  return Status::Ok();
}

void MemoryEngine::FailCommits(Status status) {
  std::lock_guard lock(mu_);
  fail_ = std::move(status);
}

void MemoryEngine::ThrottleNewDataAfter(int admitted) {
  std::lock_guard lock(mu_);
  admit_left_ = admitted;
}

Status MemoryEngine::AdmitNewData() {
  std::lock_guard lock(mu_);
  if (admit_left_ < 0) return Status::Ok();
  if (admit_left_ == 0) return Status(ErrorCode::kThrottling, "storage is behind (test)");
  --admit_left_;
  return Status::Ok();
}

size_t MemoryEngine::message_count() const {
  std::lock_guard lock(mu_);
  return messages_.size();
}

Status MemoryEngine::Accepts(SpaceUse) const {
  std::lock_guard lock(mu_);
  return fail_;
}

StorageHealth MemoryEngine::Health() const {
  std::lock_guard lock(mu_);
  if (fail_.ok()) return {};
  return {StorageState::kStalled, fail_.message()};
}

}  // namespace postbox::storage
