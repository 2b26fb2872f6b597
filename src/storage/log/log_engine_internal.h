// Helpers the log engine's files share (log_engine.cc, log_replay.cc, log_health.cc).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "storage/log/log_format.h"
#include "storage/log/log_index.h"

namespace postbox::storage {

inline constexpr std::string_view kSegmentSuffix = ".log";
inline constexpr std::string_view kSpareSuffix = ".spare";

// Segment file names are their ids, zero-padded so that they sort: 00000001.log. A spare (a
// deleted segment's file, kept to be reused) keeps its old id: 00000001.spare.
std::optional<uint32_t> SegmentIdOf(std::string_view file_name, std::string_view suffix);

// Calls `visit(op, at)` for every operation in the valid frames of `bytes`, a segment's
// contents. Returns where the valid frames end, or an error if a frame that passed its
// checksum does not decode (a bug or a format mismatch, never a torn write).
Result<FrameScan> ForEachOp(std::string_view bytes, uint32_t segment,
                            const std::function<void(const LogOp&, const LogLocation&)>& visit);

}  // namespace postbox::storage
