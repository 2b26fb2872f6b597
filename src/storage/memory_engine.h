// MemoryEngine: an Engine that keeps records in memory, for core tests.
// Commit applies at once and calls `done` on the calling thread. Nothing survives the object.
// Thread-safety: internally locked.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>

#include "storage/engine.h"

namespace postbox::storage {

class MemoryEngine final : public Engine {
 public:
  void Commit(WriteBatch batch, Durability durability, Done done) override;
  Status LoadQueues(const QueueVisitor& visit) override;
  Status LoadMessages(const MessageVisitor& visit) override;
  Status LoadRecords(RecordKind kind, const RecordVisitor& visit) override;
  Status Flush() override { return Status::Ok(); }
  // Refuses while FailCommits is set: like a stalled engine.
  Status Accepts(SpaceUse use) const override;
  StorageHealth Health() const override;

  // AdmitNewData: as set by ThrottleNewDataAfter.
  Status AdmitNewData() override;

  // Test hook: make every later commit fail with this status (ok() = stop failing).
  void FailCommits(Status status);
  // Test hook: AdmitNewData admits `admitted` more requests, then answers kThrottling, as
  // storage that is behind does; -1 (the default): always admits.
  void ThrottleNewDataAfter(int admitted);
  size_t message_count() const;

 private:
  struct StoredMessage {
    std::string blob;
    MessageState state;
  };
  mutable std::mutex mu_;
  Status fail_;
  int admit_left_ = -1;
  std::map<uint64_t, std::string> queues_;
  std::map<std::pair<uint64_t, uint64_t>, StoredMessage> messages_;
  // (kind, queue id, key) -> blob
  std::map<std::tuple<RecordKind, uint64_t, std::string>, std::string> records_;
};

}  // namespace postbox::storage
