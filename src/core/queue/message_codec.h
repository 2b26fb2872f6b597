// Encodes the immutable part of a Message (everything but its MessageState) for storage.
// Format: docs/formats/rocksdb-keys.md ("Message record"). Decoding checks every length, so a
// damaged record is reported instead of read past its end.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "core/queue/message.h"

namespace postbox::core {

std::string EncodeMessage(const Message& message);
// Fills everything but seq and state.
Status DecodeMessage(std::string_view data, Message* message);

}  // namespace postbox::core
