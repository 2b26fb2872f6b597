// Compact JSON output for responses. nlohmann-json's dump() escapes strings one character at a
// time, which was the largest single cost of ReceiveMessage (1 KiB bodies); this writer copies
// runs that need no escaping in one append. Output is the same as dump() with
// ensure_ascii=false and invalid UTF-8 replaced by U+FFFD.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace postbox::wire {

void AppendJsonString(std::string_view text, std::string* out);
void AppendJson(const nlohmann::json& value, std::string* out);
std::string ToJson(const nlohmann::json& value);

}  // namespace postbox::wire
