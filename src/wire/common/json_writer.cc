#include "wire/common/json_writer.h"

#include <cstdio>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

// The end of the run of whole 16- and 8-byte blocks from `i` that are printable ASCII other
// than '"' and '\\' (== i when the block at i is not, or fewer than 8 bytes are left).
size_t PlainAsciiEnd(std::string_view s, size_t i) {
#if defined(__SSE2__)
  const __m128i space = _mm_set1_epi8(0x20);
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  while (i + 16 <= s.size()) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    // Signed compare: bytes 0x80-0xFF are negative, so "< 0x20" also catches non-ASCII.
    const __m128i special =
        _mm_or_si128(_mm_cmplt_epi8(v, space),
                     _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
    if (_mm_movemask_epi8(special) != 0) break;
    i += 16;
  }
#endif
  while (i + 8 <= s.size()) {
    uint64_t word = ascii::Load8(s, i);
    if (!ascii::AllPrintable(word) || ascii::HasByte(word, '"') || ascii::HasByte(word, '\\')) {
      break;
    }
    i += 8;
  }
  return i;
}

}  // namespace

void AppendJsonString(std::string_view text, std::string* out) {
  out->push_back('"');
  size_t run = 0;  // start of the pending run that needs no escaping
  size_t i = 0;
  while (i < text.size()) {
    // Whole blocks of printable ASCII other than '"' and '\\' (most bodies) at once.
    if (size_t end = PlainAsciiEnd(text, i); end != i) {
      i = end;
      continue;
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
