#include "wire/common/form.h"

#include "base/hex.h"

namespace postbox::wire {

std::optional<std::string> UrlDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int hi = HexDigitValue(text[i + 1]);
      int lo = HexDigitValue(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(char(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
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
