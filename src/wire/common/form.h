// Decoding of application/x-www-form-urlencoded bodies and URL query strings, as the AWS query
// protocol sends them ("Action=SendMessage&MessageBody=hello+world").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace postbox::wire {

using FormFields = std::vector<std::pair<std::string, std::string>>;

// Percent-decodes one component; '+' means space. nullopt on a malformed escape.
std::optional<std::string> UrlDecode(std::string_view text);
// Splits on '&' and '='; fails with kMalformedRequest on a bad escape.
Result<FormFields> ParseForm(std::string_view text);

}  // namespace postbox::wire
