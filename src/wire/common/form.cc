#include "wire/common/form.h"

#include <algorithm>
#include <cstring>

#include "base/hex.h"

namespace postbox::wire {

namespace {

// The position of the next `c` at or after `from`, or text.size(): memchr's word-at-a-time
// scan, as a message body is mostly plain text.
size_t NextOf(std::string_view text, size_t from, char c) {
  if (from >= text.size()) return text.size();  // memchr must not see a null pointer
  const void* found = std::memchr(text.data() + from, c, text.size() - from);
  return found == nullptr ? text.size() : size_t(static_cast<const char*>(found) - text.data());
}

}  // namespace

std::optional<std::string> UrlDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  // The next '%' and '+', each found again only once passed: linear in the text's length
  // however many escapes it has.
  size_t next_percent = NextOf(text, 0, '%');
  size_t next_plus = NextOf(text, 0, '+');
  size_t i = 0;
  while (i < text.size()) {
    const size_t escape = std::min(next_percent, next_plus);
    out.append(text.data() + i, escape - i);  // the plain run, copied whole
    if (escape == text.size()) break;
    if (escape == next_plus) {
      out.push_back(' ');
      i = escape + 1;
      next_plus = NextOf(text, i, '+');
      continue;
    }
    if (escape + 2 >= text.size()) return std::nullopt;
    const int hi = HexDigitValue(text[escape + 1]);
    const int lo = HexDigitValue(text[escape + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(char(hi * 16 + lo));
    i = escape + 3;
    next_percent = NextOf(text, i, '%');  // (a '+' is not a hex digit: next_plus is ahead)
  }
  return out;
}

Result<FormFields> ParseForm(std::string_view text) {
  FormFields fields;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('&', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view pair = text.substr(start, end - start);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      auto key = UrlDecode(pair.substr(0, eq));
      auto value = UrlDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
      if (!key || !value) {
        return Status(ErrorCode::kMalformedRequest, "The request body is not valid form data.");
      }
      fields.emplace_back(std::move(*key), std::move(*value));
    }
    start = end + 1;
  }
  return fields;
}

}  // namespace postbox::wire
