// The log engine's file format: frames of operations, written into segment files.
//
// A segment is a sequence of frames, one per group commit:
//   u32 payload size | u32 check | payload
// where check is the CRC-32C of the payload XOR the CRC-32C of the segment's id (u32): a
// segment file is reused for later segments, and frames left from its earlier life must not
// pass as this one's.
// A payload is a sequence of operations, each one WriteBatch::Op (integers little-endian):
//   u8 code | u64 queue id | the fields of its kind:
//   put queue       u32 size, blob
//   delete queue    -
//   put message     u64 seq, state (i64 visible at, u32 receive count, i64 first receive),
//                   u32 size, blob
//   update state    u64 seq, state
//   delete message  u64 seq
//   purge           -
//   put record      u8 record kind, u32 key size, key, u32 size, blob
//   delete record   u8 record kind, u32 key size, key
// A segment that is complete ends with an end frame, whose payload is the single byte 0.
// A frame is written with one write() and is all-or-nothing: after a crash, the first frame
// that is short or fails its check ends the log.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "storage/engine.h"

namespace postbox::storage {

// One operation as it is written and read: WriteBatch::Op's fields, with views for the bytes.
struct LogOp {
  WriteBatch::Kind kind = WriteBatch::Kind::kPutQueue;
  uint64_t queue_id = 0;
  uint64_t seq = 0;
  MessageState state;
  RecordKind record_kind = RecordKind::kDeduplication;
  std::string_view record_key;
  std::string_view blob;
};

LogOp ViewOf(const WriteBatch::Op& op);

// Appends the encoding of `op`; returns its size in bytes.
size_t AppendLogOp(const LogOp& op, std::string& out);

// Decodes the operation at `*pos` of a payload and advances `*pos`. False if it is malformed.
bool ParseLogOp(std::string_view payload, size_t* pos, LogOp* op);

constexpr size_t kFrameHeaderBytes = 8;

// Appends a frame header to be filled by FinishFrame; returns the frame's start in `out`.
size_t BeginFrame(std::string& out);
// Fills the header of the frame of segment `segment` that starts at `frame_start` and ends at
// the end of `out`.
void FinishFrame(std::string& out, size_t frame_start, uint32_t segment);
// Appends the end frame of segment `segment`.
void AppendEndFrame(std::string& out, uint32_t segment);

struct FrameScan {
  size_t end = 0;      // where the valid frames end (before the end frame, if any)
  bool ended = false;  // the segment's end frame follows them
};
// Calls `visit(payload_offset, payload)` for each valid frame of a segment's bytes, in order;
// stops at the first invalid one, at the end frame, or when `visit` returns false.
FrameScan ParseFrames(
    std::string_view bytes, uint32_t segment,
    const std::function<bool(size_t payload_offset, std::string_view payload)>& visit);

}  // namespace postbox::storage
