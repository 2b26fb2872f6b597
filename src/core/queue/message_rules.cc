#include "core/queue/message_rules.h"

#include <locale.h>
#include <spdlog/spdlog.h>
#include <wctype.h>

#include <cctype>
#include <cstdio>

#include "base/ascii.h"
#include "base/encoding.h"

namespace postbox::core {
namespace {

Status InvalidParameter(const std::string& reason) {
  return Status(ErrorCode::kInvalidParameterValue, reason);
}

bool AllowedCodePoint(uint32_t cp) {
  return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
         (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

// Decodes one UTF-8 sequence at s[*i]; returns false on malformed input.
bool NextCodePoint(std::string_view s, size_t* i, uint32_t* cp) {
  uint8_t c = uint8_t(s[*i]);
  int extra = 0;
  uint32_t min = 0;
  if (c < 0x80) {
    *cp = c;
  } else if ((c & 0xE0) == 0xC0) {
    *cp = c & 0x1F, extra = 1, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    *cp = c & 0x0F, extra = 2, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    *cp = c & 0x07, extra = 3, min = 0x10000;
  } else {
    return false;
  }
  if (*i + extra >= s.size()) return false;  // truncated sequence
  for (int k = 1; k <= extra; ++k) {
    uint8_t cc = uint8_t(s[*i + k]);
    if ((cc & 0xC0) != 0x80) return false;
    *cp = (*cp << 6) | (cc & 0x3F);
  }
  if (extra > 0 && *cp < min) return false;  // overlong encoding
  *i += extra + 1;
  return true;
}

// A UTF-8 locale for classifying characters (libc-bin ships C.UTF-8 on Debian); nullptr if
// the system has none, and then names are checked against ASCII only.
locale_t Utf8Locale() {
  static const locale_t utf8 = [] {
    for (const char* name : {"C.UTF-8", "C.utf8", "en_US.UTF-8"}) {
      if (locale_t l = newlocale(LC_CTYPE_MASK, name, locale_t(nullptr)); l != locale_t(nullptr)) {
        return l;
      }
    }
    spdlog::warn("event=no_utf8_locale effect=\"message attribute names limited to ASCII\"");
    return locale_t(nullptr);
  }();
  return utf8;
}

// Letters and digits of any script count, as on AWS ("attr.1øßä" is a valid name, "a§b" is
// not).
bool IsLetterOrDigit(uint32_t cp) {
  if (cp < 0x80) return std::isalnum(int(cp)) != 0;
  const locale_t utf8 = Utf8Locale();
  return utf8 != locale_t(nullptr) && iswalnum_l(wint_t(cp), utf8) != 0;
}

bool ValidName(std::string_view name) {
  if (name.empty()) return false;
  if (name.front() == '.' || name.back() == '.') return false;
  if (name.find("..") != std::string_view::npos) return false;
  size_t characters = 0;
  for (size_t i = 0; i < name.size(); ++characters) {
    uint32_t cp = 0;
    if (!NextCodePoint(name, &i, &cp)) return false;
    if (!IsLetterOrDigit(cp) && cp != '_' && cp != '-' && cp != '.') return false;
  }
  if (characters > kMaxAttributeNameLength) return false;
  return !HasReservedAttributePrefix(name);
}

bool IsNumber(std::string_view v) {
  // AWS accepts numbers with up to 38 significant digits, e.g. -12.5e3.
  if (v.empty()) return false;
  size_t i = 0;
  if (v[i] == '+' || v[i] == '-') ++i;
  bool digits = false;
  while (i < v.size() && std::isdigit(uint8_t(v[i]))) ++i, digits = true;
  if (i < v.size() && v[i] == '.') {
    ++i;
    while (i < v.size() && std::isdigit(uint8_t(v[i]))) ++i, digits = true;
  }
  if (!digits) return false;
  if (i < v.size() && (v[i] == 'e' || v[i] == 'E')) {
    ++i;
    if (i < v.size() && (v[i] == '+' || v[i] == '-')) ++i;
    bool exp = false;
    while (i < v.size() && std::isdigit(uint8_t(v[i]))) ++i, exp = true;
    if (!exp) return false;
  }
  return i == v.size();
}

void AppendLengthPrefixed(std::string& out, std::string_view s) {
  uint32_t n = uint32_t(s.size());
  out.push_back(char(n >> 24));
  out.push_back(char(n >> 16));
  out.push_back(char(n >> 8));
  out.push_back(char(n));
  out.append(s);
}

}  // namespace

bool HasReservedAttributePrefix(std::string_view name) {
  auto starts_folded = [&](std::string_view prefix) {
    if (name.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
      if (std::tolower(uint8_t(name[i])) != std::tolower(uint8_t(prefix[i]))) return false;
    }
    return true;
  };
  return starts_folded("AWS.") || starts_folded("Amazon.");
}

Status ValidateBody(std::string_view body) {
  size_t i = 0;
  while (i < body.size()) {
    // Fast paths for printable ASCII, almost every byte of a typical body: 8 bytes at a time,
    // then one.
    if (i + 8 <= body.size() && ascii::AllPrintable(ascii::Load8(body, i))) {
      i += 8;
      continue;
    }
    if (uint8_t c = uint8_t(body[i]); c >= 0x20 && c < 0x80) {
      ++i;
      continue;
    }
    uint32_t cp = 0;
    size_t at = i;
    if (!NextCodePoint(body, &i, &cp) || !AllowedCodePoint(cp)) {
      char hex[16];
      std::snprintf(hex, sizeof(hex), "#x%X", NextCodePoint(body, &at, &cp) ? cp : 0xFFFD);
      return Status(ErrorCode::kInvalidMessageContents,
                    std::string("Invalid binary character '") + hex +
                        "' was found in the message body, the set of allowed characters is #x9 | "
                        "#xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF");
    }
  }
  return Status::Ok();
}

Status ValidateAttributes(const MessageAttributes& attributes) {
  if (attributes.size() > size_t(kMaxMessageAttributes)) {
    return InvalidParameter("Number of message attributes [" + std::to_string(attributes.size()) +
                            "] exceeds the allowed maximum [10].");
  }
  for (const auto& [name, value] : attributes) {
    if (!ValidName(name)) {
      return InvalidParameter("Message (user) attribute name '" + name + "' is invalid.");
    }
    const std::string& type = value.data_type;
    if (type.empty()) {
      return InvalidParameter("The message attribute '" + name +
                              "' must contain non-empty message attribute type.");
    }
    std::string base = type.substr(0, type.find('.'));
    if (base != "String" && base != "Number" && base != "Binary") {
      return InvalidParameter("The type of message (user) attribute '" + name +
                              "' is invalid. You must use only the following supported type "
                              "prefixes: Binary, Number, String.");
    }
    if (type.size() > kMaxAttributeNameLength) {
      return InvalidParameter("Message (user) attribute '" + name + "' type is too long.");
    }
    if (base == "Binary") {
      if (value.binary_value.empty()) {
        return InvalidParameter("The message attribute '" + name +
                                "' with type 'Binary' must use field 'Binary'.");
      }
    } else {
      if (value.string_value.empty()) {
        return InvalidParameter("Message (user) attribute '" + name +
                                "' must contain a non-empty value of type '" + base + "'.");
      }
      if (base == "Number" && !IsNumber(value.string_value)) {
        return InvalidParameter("Can't cast the value of message (user) attribute '" + name +
                                "' to a number.");
      }
      if (Status s = ValidateBody(value.string_value); !s.ok()) {
        return InvalidParameter("Message (user) attribute '" + name +
                                "' value contains invalid characters.");
      }
    }
  }
  return Status::Ok();
}

Status ValidateSystemAttributes(const MessageAttributes& attributes) {
  for (const auto& [name, value] : attributes) {
    if (name != "AWSTraceHeader") {
      return InvalidParameter("Message system attribute name '" + name + "' is invalid.");
    }
    if (value.data_type != "String" || value.string_value.empty()) {
      return InvalidParameter(
          "Message system attribute 'AWSTraceHeader' must contain a non-empty value of type "
          "'String'.");
    }
  }
  return Status::Ok();
}

Status ValidateFifoToken(std::string_view parameter, std::string_view value) {
  bool ok = !value.empty() && value.size() <= 128;
  for (char c : value) ok = ok && (std::isalnum(uint8_t(c)) || std::ispunct(uint8_t(c)));
  if (ok) return Status::Ok();
  return InvalidParameter("Value " + std::string(value) + " for parameter " +
                          std::string(parameter) +
                          " is invalid. Reason: " + std::string(parameter) +
                          " can only include alphanumeric and punctuation characters. 1 to 128 in "
                          "length.");
}

size_t MessageSize(const NewMessage& message) {
  size_t size = message.body.size();
  for (const auto& [name, value] : message.attributes) {
    size += name.size() + value.data_type.size() +
            (value.is_binary() ? value.binary_value.size() : value.string_value.size());
  }
  return size;
}

std::string Md5OfAttributes(const MessageAttributes& attributes) {
  if (attributes.empty()) return "";
  std::string buffer;
  for (const auto& [name, value] : attributes) {
    AppendLengthPrefixed(buffer, name);
    AppendLengthPrefixed(buffer, value.data_type);
    if (value.is_binary()) {
      buffer.push_back(char(2));
      AppendLengthPrefixed(buffer, value.binary_value);
    } else {
      buffer.push_back(char(1));
      AppendLengthPrefixed(buffer, value.string_value);
    }
  }
  return Md5Hex(buffer);
}

}  // namespace postbox::core
