// BuildMimeMessage: the RFC 5322 / MIME text of an email postbox sends (SNS email
// subscriptions, SES SendEmail), ready for SMTP.
//
// Everything is UTF-8: non-ASCII subjects and display names become RFC 2047 encoded words
// (=?UTF-8?B?...?=, split at character boundaries), bodies are base64 so no relay re-wraps or
// mangles them (Korean text arrives intact), lines end in CRLF. A text and an HTML body make a
// multipart/alternative message. Header values lose any CR or LF, so no input can add headers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace postbox::channels {

struct MailContent {
  std::string from;  // "address" or "Display Name <address>"
  std::vector<std::string> to;
  std::vector<std::string> cc;
  std::vector<std::string> reply_to;
  std::string subject;
  std::string text;  // the text/plain body (may be empty when html is set)
  std::string html;  // the text/html body (optional)
  int64_t date_ms = 0;
  std::string message_id;  // without the angle brackets, e.g. "<uuid>@postbox"
};

std::string BuildMimeMessage(const MailContent& content);

// A header value as RFC 2047 encoded words when it is not plain printable ASCII; as it is
// otherwise.
std::string EncodeHeaderText(std::string_view utf8);

// An address header entry: a non-ASCII display name is encoded, the address kept.
std::string EncodeAddress(std::string_view address);

// "Name <address>" with the name quoted when it holds more than letters, digits and spaces
// (a non-ASCII name is left for EncodeAddress to encode).
std::string NamedAddress(std::string_view name, std::string_view address);

// Whether `address` is a usable bare address: local@domain with one @, printable ASCII
// without spaces, commas, quotes or angle brackets, at most 254 characters (what SMTP carries).
bool IsValidEmailAddress(std::string_view address);

// The bare address of "Name <address>" (or the whole text when there are no angle brackets).
std::string BareAddress(std::string_view address);

}  // namespace postbox::channels
