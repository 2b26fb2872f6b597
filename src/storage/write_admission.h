// WriteAdmission: an Engine in front of another that bounds the bytes waiting to be stored.
//
// When requests that add data arrive faster than the disk takes them (a slow or busy disk, a
// flood of sends), their batches queue up in the engine and memory grows with them. This
// counts the bytes of every batch someone waits for, from Commit until it is answered, and
// while they reach `max_pending_bytes`, AdmitNewData (asked by sends and publishes before
// they change anything) and Accepts(kGrows) answer kThrottling: SQS RequestThrottled, SNS
// Throttled, which AWS's SDKs back off and retry. Nothing already committed is ever refused
// here, so a FIFO send and its duplicate, or the deliveries of one publish, are stored or
// refused together. Receives, deletes and visibility changes are not asked: consumers keep
// draining while producers are held back.
//
// The bound is checked before a request's writes, not at each commit, so it can be passed by
// what the requests admitted at the same moment write: a batch's size for a send, one copy per
// subscribed queue for a publish, a step of each running move task. A request larger than
// the bound still goes through whenever less than the bound waits. Configuration changes do
// not ask (they are small and rare).
// Batches nobody waits for (`done` null) are passed on uncounted: wrapping them would make
// the log engine treat them as awaited and write them at once.
//
// Thread-safety: as Engine; the counts are atomics.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "base/metrics.h"
#include "storage/engine.h"

namespace postbox::storage {

class WriteAdmission final : public Engine {
 public:
  // `inner` must outlive this.
  WriteAdmission(Engine& inner, uint64_t max_pending_bytes);

  void Commit(WriteBatch batch, Durability durability, Done done) override;
  Status LoadQueues(const QueueVisitor& visit) override { return inner_.LoadQueues(visit); }
  Status LoadMessages(const MessageVisitor& visit) override { return inner_.LoadMessages(visit); }
  Status LoadRecords(RecordKind kind, const RecordVisitor& visit) override {
    return inner_.LoadRecords(kind, visit);
  }
  Status Flush() override { return inner_.Flush(); }
  // kGrows is also refused (kThrottling) while the pending bytes are at the bound.
  Status Accepts(SpaceUse use) const override;
  StorageHealth Health() const override { return inner_.Health(); }
  Status AdmitNewData() override;

  // Requests refused by AdmitNewData so far.
  const Counter& throttled() const { return throttled_; }
  // Bytes of committed batches not answered yet.
  uint64_t pending_bytes() const { return pending_bytes_->load(std::memory_order_relaxed); }
  uint64_t max_pending_bytes() const { return max_pending_bytes_; }

 private:
  bool Behind() const { return pending_bytes() >= max_pending_bytes_; }
  Status Refusal() const;

  Engine& inner_;
  const uint64_t max_pending_bytes_;
  // Shared with the callbacks of committed batches, which may run after this is gone (an
  // engine answering its last batches while the server is torn down).
  std::shared_ptr<std::atomic<uint64_t>> pending_bytes_ =
      std::make_shared<std::atomic<uint64_t>>(0);
  Counter throttled_;
};

}  // namespace postbox::storage
