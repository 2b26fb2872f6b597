#include "wire/common/xml_writer.h"

#include <array>
#include <cstdio>

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

}  // namespace

void XmlWriter::Escape(std::string_view text, std::string* out) {
  size_t i = 0;
  while (i < text.size()) {
    // Plain runs are copied whole: message bodies are mostly plain text.
    size_t plain_end = i;
    while (plain_end < text.size() && !NeedsEscape(text[plain_end])) ++plain_end;
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
