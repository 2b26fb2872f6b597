// Crc32c: the CRC-32C (Castagnoli) checksum of a byte range, as used by ext4, iSCSI and
// RocksDB's log. The log engine frames every write with it to find a torn tail after a crash.
// Uses the CPU's crc32 instruction when it has one (SSE 4.2), else Boost.CRC.
// Thread-safety: a pure function.
#pragma once

#include <cstddef>
#include <cstdint>

namespace postbox::storage {

uint32_t Crc32c(const void* data, size_t size);

}  // namespace postbox::storage
