#include "wire/common/xml_writer.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include "base/ascii.h"

namespace postbox::wire {

namespace {

// Whether a byte is written as a reference rather than as itself: markup, CR (kept through
// XML line-end normalisation) and the control characters XML 1.0 cannot carry. A table, as
// every byte of every message body is looked up.
constexpr std::array<bool, 256> kNeedsEscape = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = c != '\n' && c != '\t';
  for (char c : {'&', '<', '>', '"', '\''}) table[uint8_t(c)] = true;
  return table;
}();

bool NeedsEscape(char c) { return kNeedsEscape[uint8_t(c)]; }

// Whether some byte of an 8-byte word might need escaping: markup, or below 0x20 (which takes
// in '\n' and '\t', written as themselves: the byte loop sorts those out).
bool MayNeedEscape(uint64_t word) {
  using ascii::HasByte;
  return ((word - ascii::kOnes * 0x20) & ~word & ascii::kHighBits) != 0 || HasByte(word, '&') ||
         HasByte(word, '<') || HasByte(word, '>') || HasByte(word, '"') || HasByte(word, '\'');
}

// The end of the run from `i` that is written as it is: whole words while none may need
// escaping (bodies are mostly plain text), then byte by byte through one word.
size_t PlainRunEnd(std::string_view text, size_t i) {
  while (true) {
    while (i + 8 <= text.size() && !MayNeedEscape(ascii::Load8(text, i))) i += 8;
    const size_t word_end = std::min(text.size(), i + 8);
    for (; i < word_end; ++i) {
      if (NeedsEscape(text[i])) return i;
    }
    if (i == text.size()) return i;
  }
}

}  // namespace

void XmlWriter::Escape(std::string_view text, std::string* out) {
  size_t i = 0;
  while (i < text.size()) {
    // Plain runs are copied whole: message bodies are mostly plain text.
    const size_t plain_end = PlainRunEnd(text, i);
    out->append(text.data() + i, plain_end - i);
    if (plain_end == text.size()) break;
    const char c = text[plain_end];
    i = plain_end + 1;
    switch (c) {
      case '&':
        out->append("&amp;");
        break;
      case '<':
        out->append("&lt;");
        break;
      case '>':
        out->append("&gt;");
        break;
      case '"':
        out->append("&quot;");
        break;
      case '\'':
        out->append("&apos;");
        break;
      case '\r':
        out->append("&#xD;");
        break;
      default: {
        char ref[8];
        std::snprintf(ref, sizeof(ref), "&#x%X;", unsigned(uint8_t(c)));
        out->append(ref);
      }
    }
  }
}

void XmlWriter::Open(std::string_view name, std::string_view ns) {
  out_.push_back('<');
  out_.append(name);
  if (!ns.empty()) {
    out_.append(" xmlns=\"");
    out_.append(ns);
    out_.push_back('"');
  }
  out_.push_back('>');
  open_.emplace_back(name);
}

void XmlWriter::Close() {
  out_.append("</");
  out_.append(open_.back());
  out_.push_back('>');
  open_.pop_back();
}

void XmlWriter::Element(std::string_view name, std::string_view text) {
  out_.push_back('<');
  out_.append(name);
  out_.push_back('>');
  Escape(text, &out_);
  out_.append("</");
  out_.append(name);
  out_.push_back('>');
}

std::string XmlWriter::Finish() {
  while (!open_.empty()) Close();
  return std::move(out_);
}

}  // namespace postbox::wire
