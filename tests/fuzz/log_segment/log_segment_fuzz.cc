// Fuzzes the log engine's readers of segment files (storage/log/log_format.h), which a crash or
// a bad disk can leave with any bytes:
//  - ParseFrames over the input as segment 1; every operation of a frame that passes its
//    check either fails to decode or re-encodes to the same bytes.
//  - ParseLogOp over the input as a frame's payload (random bytes rarely pass a CRC), with the
//    same round trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "storage/log/log_format.h"

namespace {

using postbox::storage::LogOp;

// Decodes every operation of a payload; each must encode back to exactly its own bytes.
void CheckPayload(std::string_view payload) {
  size_t pos = 0;
  while (pos < payload.size()) {
    const size_t start = pos;
    LogOp op;
    if (!postbox::storage::ParseLogOp(payload, &pos, &op)) return;
    if (pos <= start || pos > payload.size()) std::abort();
    std::string again;
    const size_t size = postbox::storage::AppendLogOp(op, again);
    if (size != pos - start || again != payload.substr(start, size)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto scan = postbox::storage::ParseFrames(bytes, 1, [](size_t, std::string_view payload) {
    CheckPayload(payload);
    return true;
  });
  if (scan.end > size) std::abort();
  CheckPayload(bytes);
  return 0;
}
