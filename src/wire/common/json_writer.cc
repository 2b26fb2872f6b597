#include "wire/common/json_writer.h"

#include <cstdio>

#include "base/ascii.h"

namespace postbox::wire {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not valid.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  uint8_t c = uint8_t(s[i]);
  size_t n = 0;
  uint32_t cp = 0;
  uint32_t min = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, cp = c & 0x0F, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    uint8_t cc = uint8_t(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

}  // namespace

void AppendJsonString(std::string_view text, std::string* out) {
  out->push_back('"');
  size_t run = 0;  // start of the pending run that needs no escaping
  size_t i = 0;
  while (i < text.size()) {
    // 8 bytes at a time while they are printable ASCII other than '"' and '\\' (most bodies).
    if (i + 8 <= text.size()) {
      uint64_t word = ascii::Load8(text, i);
      if (ascii::AllPrintable(word) && !ascii::HasByte(word, '"') && !ascii::HasByte(word, '\\')) {
        i += 8;
        continue;
      }
    }
    uint8_t c = uint8_t(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      size_t n = Utf8SequenceLength(text, i);
      if (n > 0) {
        i += n;
        continue;
      }
    }
    out->append(text.substr(run, i - run));
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default:
        if (c < 0x20) {
          char escape[8];
          std::snprintf(escape, sizeof(escape), "\\u%04x", unsigned(c));
          out->append(escape);
        } else {
          out->append("\xEF\xBF\xBD");  // invalid UTF-8 byte: U+FFFD, as dump(replace)
        }
    }
    ++i;
    run = i;
  }
  out->append(text.substr(run));
  out->push_back('"');
}

void AppendJson(const nlohmann::json& value, std::string* out) {
  switch (value.type()) {
    case nlohmann::json::value_t::object: {
      out->push_back('{');
      bool first = true;
      for (const auto& [key, member] : value.items()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(key, out);
        out->push_back(':');
        AppendJson(member, out);
      }
      out->push_back('}');
      break;
    }
    case nlohmann::json::value_t::array: {
      out->push_back('[');
      bool first = true;
      for (const auto& item : value) {
        if (!first) out->push_back(',');
        first = false;
        AppendJson(item, out);
      }
      out->push_back(']');
      break;
    }
    case nlohmann::json::value_t::string:
      AppendJsonString(value.get_ref<const std::string&>(), out);
      break;
    default:
      // Numbers, booleans and null: few and short.
      out->append(value.dump());
  }
}

std::string ToJson(const nlohmann::json& value) {
  std::string out;
  out.reserve(256);
  AppendJson(value, &out);
  return out;
}

}  // namespace postbox::wire
