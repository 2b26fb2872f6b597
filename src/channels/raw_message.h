// Reading a message someone else built (SES SendRawEmail): its header fields, the addresses in
// them, and the message made ready for SMTP (CRLF line ends, no Bcc header).
//
// The parser only needs what sending needs: header names and unfolded values up to the first
// empty line. It never fails; malformed lines are skipped. It is fuzzed (tests/fuzz).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace postbox::channels {

struct HeaderField {
  std::string name;   // as written
  std::string value;  // unfolded, outer spaces trimmed
};

std::vector<HeaderField> ParseHeaderFields(std::string_view message);

// The first value of the header `name` (case-insensitive), or "".
std::string HeaderValue(const std::vector<HeaderField>& fields, std::string_view name);

// The bare addresses of an address-list header value: `A <a@x>, "B, C" <b@y>, c@z`.
std::vector<std::string> AddressList(std::string_view value);

// The message with every line ending in CRLF (lone CRs and LFs included) and without its Bcc
// header (its recipients are in the envelope only, as SES does).
std::string PrepareForSmtp(std::string_view message);

}  // namespace postbox::channels
