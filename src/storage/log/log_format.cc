#include "storage/log/log_format.h"

#include <cstring>

#include "storage/log/crc32c.h"

namespace postbox::storage {
namespace {

// On-disk codes of WriteBatch::Kind: fixed here, whatever the enum's order becomes.
constexpr uint8_t kCodes[] = {
    1,  // kPutQueue
    2,  // kDeleteQueue
    3,  // kPutMessage
    4,  // kUpdateState
    5,  // kDeleteMessage
    6,  // kPurge
    7,  // kPutRecord
    8,  // kDeleteRecord
};
constexpr WriteBatch::Kind kKindsInCodeOrder[] = {
    WriteBatch::Kind::kPutQueue,    WriteBatch::Kind::kDeleteQueue,   WriteBatch::Kind::kPutMessage,
    WriteBatch::Kind::kUpdateState, WriteBatch::Kind::kDeleteMessage, WriteBatch::Kind::kPurge,
    WriteBatch::Kind::kPutRecord,   WriteBatch::Kind::kDeleteRecord,
};
static_assert(sizeof(kCodes) == sizeof(kKindsInCodeOrder) / sizeof(kKindsInCodeOrder[0]));

template <typename T>
void Put(std::string& out, T v) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));  // x86-64 and arm64 are little-endian, like the format
  out.append(bytes, sizeof(T));
}

void PutBytes(std::string& out, std::string_view bytes) {
  Put<uint32_t>(out, uint32_t(bytes.size()));
  out.append(bytes);
}

void PutState(std::string& out, const MessageState& s) {
  Put<int64_t>(out, s.visible_at_ms);
  Put<uint32_t>(out, s.receive_count);
  Put<int64_t>(out, s.first_receive_ms);
}

// Reads from a payload, failing (and staying failed) past its end.
class Reader {
 public:
  Reader(std::string_view in, size_t pos) : in_(in), pos_(pos) {}
  template <typename T>
  T Get() {
    T v{};
    if (ok_ && in_.size() - pos_ >= sizeof(T)) {
      std::memcpy(&v, in_.data() + pos_, sizeof(T));
      pos_ += sizeof(T);
    } else {
      ok_ = false;
    }
    return v;
  }
  std::string_view Bytes() {
    const uint32_t size = Get<uint32_t>();
    if (!ok_ || in_.size() - pos_ < size) {
      ok_ = false;
      return {};
    }
    std::string_view out = in_.substr(pos_, size);
    pos_ += size;
    return out;
  }
  MessageState State() {
    MessageState s;
    s.visible_at_ms = Get<int64_t>();
    s.receive_count = Get<uint32_t>();
    s.first_receive_ms = Get<int64_t>();
    return s;
  }
  bool ok() const { return ok_; }
  size_t pos() const { return pos_; }

 private:
  std::string_view in_;
  size_t pos_;
  bool ok_ = true;
};

}  // namespace

LogOp ViewOf(const WriteBatch::Op& op) {
  return LogOp{op.kind, op.queue_id, op.seq, op.state, op.record_kind, op.record_key, op.blob};
}

size_t AppendLogOp(const LogOp& op, std::string& out) {
  const size_t start = out.size();
  Put<uint8_t>(out, kCodes[size_t(op.kind)]);
  Put<uint64_t>(out, op.queue_id);
  switch (op.kind) {
    case WriteBatch::Kind::kPutQueue:
      PutBytes(out, op.blob);
      break;
    case WriteBatch::Kind::kDeleteQueue:
    case WriteBatch::Kind::kPurge:
      break;
    case WriteBatch::Kind::kPutMessage:
      Put<uint64_t>(out, op.seq);
      PutState(out, op.state);
      PutBytes(out, op.blob);
      break;
    case WriteBatch::Kind::kUpdateState:
      Put<uint64_t>(out, op.seq);
      PutState(out, op.state);
      break;
    case WriteBatch::Kind::kDeleteMessage:
      Put<uint64_t>(out, op.seq);
      break;
    case WriteBatch::Kind::kPutRecord:
      Put<uint8_t>(out, uint8_t(op.record_kind));
      PutBytes(out, op.record_key);
      PutBytes(out, op.blob);
      break;
    case WriteBatch::Kind::kDeleteRecord:
      Put<uint8_t>(out, uint8_t(op.record_kind));
      PutBytes(out, op.record_key);
      break;
  }
  return out.size() - start;
}

bool ParseLogOp(std::string_view payload, size_t* pos, LogOp* op) {
  Reader in(payload, *pos);
  const uint8_t code = in.Get<uint8_t>();
  if (!in.ok() || code < 1 || code > std::size(kKindsInCodeOrder)) return false;
  *op = LogOp{};
  op->kind = kKindsInCodeOrder[code - 1];
  op->queue_id = in.Get<uint64_t>();
  switch (op->kind) {
    case WriteBatch::Kind::kPutQueue:
      op->blob = in.Bytes();
      break;
    case WriteBatch::Kind::kDeleteQueue:
    case WriteBatch::Kind::kPurge:
      break;
    case WriteBatch::Kind::kPutMessage:
      op->seq = in.Get<uint64_t>();
      op->state = in.State();
      op->blob = in.Bytes();
      break;
    case WriteBatch::Kind::kUpdateState:
      op->seq = in.Get<uint64_t>();
      op->state = in.State();
      break;
    case WriteBatch::Kind::kDeleteMessage:
      op->seq = in.Get<uint64_t>();
      break;
    case WriteBatch::Kind::kPutRecord:
      op->record_kind = RecordKind(in.Get<uint8_t>());
      op->record_key = in.Bytes();
      op->blob = in.Bytes();
      break;
    case WriteBatch::Kind::kDeleteRecord:
      op->record_kind = RecordKind(in.Get<uint8_t>());
      op->record_key = in.Bytes();
      break;
  }
  if (!in.ok()) return false;
  *pos = in.pos();
  return true;
}

size_t BeginFrame(std::string& out) {
  const size_t start = out.size();
  out.append(kFrameHeaderBytes, '\0');
  return start;
}

namespace {

uint32_t SegmentMask(uint32_t segment) { return Crc32c(&segment, sizeof(segment)); }

constexpr char kEndPayload = '\0';  // never the first byte of an operation (codes start at 1)

}  // namespace

void FinishFrame(std::string& out, size_t frame_start, uint32_t segment) {
  const size_t payload_start = frame_start + kFrameHeaderBytes;
  const uint32_t size = uint32_t(out.size() - payload_start);
  const uint32_t check = Crc32c(out.data() + payload_start, size) ^ SegmentMask(segment);
  std::memcpy(out.data() + frame_start, &size, 4);
  std::memcpy(out.data() + frame_start + 4, &check, 4);
}

void AppendEndFrame(std::string& out, uint32_t segment) {
  const size_t start = BeginFrame(out);
  out.push_back(kEndPayload);
  FinishFrame(out, start, segment);
}

FrameScan ParseFrames(std::string_view bytes, uint32_t segment,
                      const std::function<bool(size_t, std::string_view)>& visit) {
  const uint32_t mask = SegmentMask(segment);
  FrameScan scan;
  while (bytes.size() - scan.end >= kFrameHeaderBytes) {
    uint32_t size = 0;
    uint32_t check = 0;
    std::memcpy(&size, bytes.data() + scan.end, 4);
    std::memcpy(&check, bytes.data() + scan.end + 4, 4);
    const size_t payload_start = scan.end + kFrameHeaderBytes;
    // An empty frame is never written: zeros after a crash (a file extended but not yet
    // written) end the log like any torn frame.
    if (size == 0 || bytes.size() - payload_start < size) break;
    const std::string_view payload = bytes.substr(payload_start, size);
    if ((Crc32c(payload.data(), payload.size()) ^ mask) != check) break;
    if (payload.size() == 1 && payload[0] == kEndPayload) {
      scan.ended = true;
      break;
    }
    if (!visit(payload_start, payload)) break;
    scan.end = payload_start + size;
  }
  return scan;
}

}  // namespace postbox::storage
