// Word-at-a-time byte tests ("Bit Twiddling Hacks": haszero / hasless), for scanning message
// bodies 8 bytes at a time. Each is exact, not a heuristic.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace postbox::ascii {

inline constexpr uint64_t kOnes = 0x0101010101010101ULL;
inline constexpr uint64_t kHighBits = 0x8080808080808080ULL;

// Non-zero when some byte of x is zero.
constexpr uint64_t HasZeroByte(uint64_t x) { return (x - kOnes) & ~x & kHighBits; }

// Non-zero when some byte of x equals b.
constexpr uint64_t HasByte(uint64_t x, uint8_t b) { return HasZeroByte(x ^ (kOnes * b)); }

// True when all 8 bytes are printable ASCII, 0x20 to 0x7F.
constexpr bool AllPrintable(uint64_t x) {
  return ((x & kHighBits) | ((x - kOnes * 0x20) & ~x & kHighBits)) == 0;
}

// The 8 bytes of s starting at pos (pos + 8 <= s.size()).
inline uint64_t Load8(std::string_view s, size_t pos) {
  uint64_t word;
  std::memcpy(&word, s.data() + pos, 8);
  return word;
}

}  // namespace postbox::ascii
