// Parsing of JSON request bodies with simdjson into nlohmann::json, the shape the handlers
// read. nlohmann's own parser lexes one character at a time and was a fifth of the I/O thread
// for SendMessageBatch (10 KiB bodies); simdjson validates and splits the document in bulk.
// Thread-safety: safe from any thread (one parser per thread).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace postbox::wire {

// The parsed document, or nullopt when `text` is not valid JSON (including invalid UTF-8).
std::optional<nlohmann::json> ParseJson(std::string_view text);

}  // namespace postbox::wire
