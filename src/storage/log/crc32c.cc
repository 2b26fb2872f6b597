#include "storage/log/crc32c.h"

#include <boost/crc.hpp>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace postbox::storage {
namespace {

uint32_t PortableCrc32c(const void* data, size_t size) {
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc;
  crc.process_bytes(data, size);
  return crc.checksum();
}

#if defined(__x86_64__)
// One 8-byte step per instruction: about 0.1 µs for a 1 KiB message instead of about 1 µs.
__attribute__((target("sse4.2"))) uint32_t HardwareCrc32c(const void* data, size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t crc = 0xFFFFFFFF;
  for (; size >= 8; size -= 8, p += 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    crc = _mm_crc32_u64(crc, word);
  }
  uint32_t crc32 = uint32_t(crc);
  for (; size > 0; --size, ++p) crc32 = _mm_crc32_u8(crc32, *p);
  return crc32 ^ 0xFFFFFFFF;
}
#endif

}  // namespace

uint32_t Crc32c(const void* data, size_t size) {
#if defined(__x86_64__)
  static const bool has_sse42 = __builtin_cpu_supports("sse4.2");
  if (has_sse42) return HardwareCrc32c(data, size);
#endif
  return PortableCrc32c(data, size);
}

}  // namespace postbox::storage
