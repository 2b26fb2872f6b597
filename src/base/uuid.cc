#include "base/uuid.h"

#include "base/hex.h"

namespace postbox {

namespace {

// Where the text form has its hyphens.
constexpr bool IsHyphenAt(size_t at) { return at == 8 || at == 13 || at == 18 || at == 23; }

}  // namespace

std::string FormatUuid(const UuidBytes& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(36, '-');  // written in place: one allocation per id
  size_t at = 0;
  for (uint8_t b : bytes) {
    if (IsHyphenAt(at)) ++at;
    out[at++] = kDigits[b >> 4];
    out[at++] = kDigits[b & 0x0f];
  }
  return out;
}

std::optional<UuidBytes> ParseUuid(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  UuidBytes bytes{};
  size_t at = 0;
  for (uint8_t& b : bytes) {
    if (IsHyphenAt(at) && text[at++] != '-') return std::nullopt;
    const int high = HexDigitValue(text[at++]);
    const int low = HexDigitValue(text[at++]);
    if (high < 0 || low < 0) return std::nullopt;
    b = uint8_t(high << 4 | low);
  }
  return bytes;
}

}  // namespace postbox
