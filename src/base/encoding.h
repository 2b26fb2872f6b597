// Digests, base64 and random identifiers, on top of OpenSSL.
// Thread-safety: all functions are safe to call concurrently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace postbox {

std::string Md5Hex(std::string_view data);
std::string Sha256Hex(std::string_view data);
// Raw 32-byte SHA-256 digest.
std::string Sha256(std::string_view data);
// Raw 32-byte HMAC-SHA256 of `data` keyed with `key` (provider request signatures).
std::string HmacSha256(std::string_view key, std::string_view data);

std::string HexEncode(std::string_view bytes);

std::string Base64Encode(std::string_view bytes);
// RFC 3986 percent-encoding: everything but A-Z a-z 0-9 - . _ ~ as %XX (form fields, paths).
std::string PercentEncode(std::string_view text);
// %XX escapes decoded ('+' stays '+', as in URL paths and SigV4 queries); a malformed escape
// is kept as it is.
std::string PercentDecode(std::string_view text);
// Standard alphabet with padding; returns nullopt on any malformed input.
std::optional<std::string> Base64Decode(std::string_view text);

// Cryptographically random bytes (OpenSSL RAND_bytes).
std::string RandomBytes(size_t count);
uint64_t RandomUint64();
// A random version-4 UUID in its 36-character text form, as AWS uses for MessageId and request
// ids. Unique, not secret: drawn from a per-thread xoshiro256** generator seeded by RAND_bytes
// (OpenSSL's DRBG per call was 3% of the request path).
std::string NewUuid();

}  // namespace postbox
