#include "storage/log/log_index.h"

#include <algorithm>
#include <vector>

namespace postbox::storage {

void LogIndex::Add(const LogLocation& at) {
  Usage& u = usage_[at.segment];
  ++u.entries;
  u.bytes += at.size;
  live_bytes_ += at.size;
}

void LogIndex::Remove(const LogLocation& at) {
  Usage& u = usage_[at.segment];
  --u.entries;
  u.bytes -= at.size;
  live_bytes_ -= at.size;
}

void LogIndex::RemoveMessagesOf(uint64_t queue) {
  auto it = messages_.find(queue);
  if (it == messages_.end()) return;
  for (const auto& [seq, entry] : it->second) Remove(entry.at);
  messages_.erase(it);
}

void LogIndex::RemoveRecordsOf(uint64_t queue) {
  auto it = records_.find(queue);
  if (it == records_.end()) return;
  for (const auto& [key, at] : it->second) Remove(at);
  records_.erase(it);
}

std::string_view LogIndex::RecordKeyOf(const LogOp& op) const {
  record_key_.clear();
  record_key_.push_back(char(op.record_kind));
  record_key_.append(op.record_key);
  return record_key_;
}

void LogIndex::Apply(const LogOp& op, const LogLocation& at) {
  switch (op.kind) {
    case WriteBatch::Kind::kPutQueue: {
      auto [it, added] = queues_.try_emplace(op.queue_id, at);
      if (!added) {
        Remove(it->second);
        it->second = at;
      }
      Add(at);
      break;
    }
    case WriteBatch::Kind::kDeleteQueue:
      if (auto it = queues_.find(op.queue_id); it != queues_.end()) {
        Remove(it->second);
        queues_.erase(it);
      }
      RemoveMessagesOf(op.queue_id);
      RemoveRecordsOf(op.queue_id);
      break;
    case WriteBatch::Kind::kPurge:
      RemoveMessagesOf(op.queue_id);
      break;
    case WriteBatch::Kind::kPutMessage: {
      auto [it, added] = messages_[op.queue_id].try_emplace(op.seq, MessageEntry{at, op.state});
      if (!added) {
        Remove(it->second.at);
        it->second = MessageEntry{at, op.state};
      }
      Add(at);
      break;
    }
    case WriteBatch::Kind::kUpdateState: {
      auto queue = messages_.find(op.queue_id);
      if (queue == messages_.end()) break;
      if (auto it = queue->second.find(op.seq); it != queue->second.end()) {
        it->second.state = op.state;
      }
      break;
    }
    case WriteBatch::Kind::kDeleteMessage: {
      auto queue = messages_.find(op.queue_id);
      if (queue == messages_.end()) break;
      if (auto it = queue->second.find(op.seq); it != queue->second.end()) {
        Remove(it->second.at);
        queue->second.erase(it);
      }
      break;
    }
    case WriteBatch::Kind::kPutRecord: {
      RecordMap& records = records_[op.queue_id];
      auto it = records.find(RecordKeyOf(op));
      const bool added = it == records.end();
      if (added) it = records.emplace(std::string(RecordKeyOf(op)), at).first;
      if (!added) {
        Remove(it->second);
        it->second = at;
      }
      Add(at);
      break;
    }
    case WriteBatch::Kind::kDeleteRecord: {
      // An emptied map stays until its queue goes: FIFO queues add and delete records all
      // the time.
      auto queue = records_.find(op.queue_id);
      if (queue == records_.end()) break;
      if (auto it = queue->second.find(RecordKeyOf(op)); it != queue->second.end()) {
        Remove(it->second);
        queue->second.erase(it);
      }
      break;
    }
  }
}

bool LogIndex::IsLive(const LogOp& op, const LogLocation& at, MessageState* current_state) const {
  switch (op.kind) {
    case WriteBatch::Kind::kPutQueue: {
      auto it = queues_.find(op.queue_id);
      return it != queues_.end() && it->second == at;
    }
    case WriteBatch::Kind::kPutMessage: {
      auto queue = messages_.find(op.queue_id);
      if (queue == messages_.end()) return false;
      auto it = queue->second.find(op.seq);
      if (it == queue->second.end() || !(it->second.at == at)) return false;
      *current_state = it->second.state;
      return true;
    }
    case WriteBatch::Kind::kPutRecord: {
      auto queue = records_.find(op.queue_id);
      if (queue == records_.end()) return false;
      auto it = queue->second.find(RecordKeyOf(op));
      return it != queue->second.end() && it->second == at;
    }
    default:
      return false;  // only puts hold anything; the rest is history once applied
  }
}

LogIndex::Usage LogIndex::UsageOf(uint32_t segment) const {
  auto it = usage_.find(segment);
  return it == usage_.end() ? Usage{} : it->second;
}

void LogIndex::ForEachQueue(const std::function<void(uint64_t, const LogLocation&)>& visit) const {
  for (const auto& [queue, at] : queues_) visit(queue, at);
}

void LogIndex::ForEachMessage(const std::function<void(uint64_t, uint64_t, const LogLocation&,
                                                       const MessageState&)>& visit) const {
  std::vector<uint64_t> queues;
  for (const auto& [queue, messages] : messages_) queues.push_back(queue);
  std::sort(queues.begin(), queues.end());
  for (uint64_t queue : queues) {
    const auto& messages = messages_.at(queue);
    std::vector<uint64_t> seqs;
    seqs.reserve(messages.size());
    for (const auto& [seq, entry] : messages) seqs.push_back(seq);
    std::sort(seqs.begin(), seqs.end());
    for (uint64_t seq : seqs) {
      const MessageEntry& entry = messages.at(seq);
      visit(queue, seq, entry.at, entry.state);
    }
  }
}

void LogIndex::ForEachRecord(
    RecordKind kind,
    const std::function<void(uint64_t, std::string_view, const LogLocation&)>& visit) const {
  // Unordered in memory (looked up on every write); sorted only here, at start-up.
  std::vector<uint64_t> queues;
  for (const auto& [queue, records] : records_) queues.push_back(queue);
  std::sort(queues.begin(), queues.end());
  std::vector<RecordMap::const_iterator> of_kind;
  for (uint64_t queue : queues) {
    const RecordMap& records = records_.at(queue);
    of_kind.clear();
    for (auto it = records.begin(); it != records.end(); ++it) {
      if (RecordKind(it->first[0]) == kind) of_kind.push_back(it);
    }
    std::sort(of_kind.begin(), of_kind.end(),
              [](const auto& x, const auto& y) { return x->first < y->first; });
    for (const auto& it : of_kind) visit(queue, std::string_view(it->first).substr(1), it->second);
  }
}

}  // namespace postbox::storage
