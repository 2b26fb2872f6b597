// UUIDs as 16 bytes and as their 36-character text (8-4-4-4-12 lowercase hex digits), for
// places that keep many ids in memory or on disk and only need the text when they answer.
// Thread-safety: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postbox {

using UuidBytes = std::array<uint8_t, 16>;

// A random (version 4) UUID. Defined with NewUuid (encoding.cc), its text form.
UuidBytes NewUuidBytes();
std::string FormatUuid(const UuidBytes& bytes);
// The bytes of a UUID in text form (either case); nullopt for anything else.
std::optional<UuidBytes> ParseUuid(std::string_view text);

}  // namespace postbox
