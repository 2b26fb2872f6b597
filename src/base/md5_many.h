// Md5HexMany: the MD5 digests (lowercase hex) of several inputs, computed side by side.
//
// SQS answers every sent message with the MD5 of its body, and SendMessageBatch carries up to
// ten. One MD5 is a serial chain (about 5 cycles per byte, whatever the library), so ten 1 KiB
// bodies cost about 20 µs: a tenth of the server's core at saturation. With AVX2, eight
// inputs go through the eight 32-bit lanes of one chain at once ("multi-buffer" hashing), for
// about the price of two. Without AVX2 (or for a single input) each is hashed by OpenSSL.
// Thread-safety: a pure function.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace postbox {

std::vector<std::string> Md5HexMany(std::span<const std::string_view> inputs);

}  // namespace postbox
