#include "storage/write_admission.h"

#include <string>
#include <utility>

namespace postbox::storage {

WriteAdmission::WriteAdmission(Engine& inner, uint64_t max_pending_bytes)
    : inner_(inner), max_pending_bytes_(max_pending_bytes) {}

Status WriteAdmission::Refusal() const {
  return Status(ErrorCode::kThrottling,
                "Request throttled: more writes are waiting for storage than it takes (" +
                    std::to_string(max_pending_bytes_ >> 20) +
                    " MiB, storage.max_pending_mib); retry with backoff");
}

void WriteAdmission::Commit(WriteBatch batch, Durability durability, Done done) {
  if (done == nullptr) return inner_.Commit(std::move(batch), durability, nullptr);
  const uint64_t bytes = batch.ApproximateBytes();
  pending_bytes_->fetch_add(bytes, std::memory_order_relaxed);
  inner_.Commit(std::move(batch), durability,
                [pending = pending_bytes_, bytes, done = std::move(done)](Status s) {
                  pending->fetch_sub(bytes, std::memory_order_relaxed);
                  done(std::move(s));
                });
}

Status WriteAdmission::Accepts(SpaceUse use) const {
  if (Status s = inner_.Accepts(use); !s.ok()) return s;
  if (use == SpaceUse::kGrows && Behind()) return Refusal();
  return Status::Ok();
}

Status WriteAdmission::AdmitNewData() {
  if (!Behind()) return inner_.AdmitNewData();
  throttled_.Add();
  return Refusal();
}

}  // namespace postbox::storage
