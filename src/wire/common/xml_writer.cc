#include "wire/common/xml_writer.h"

#include <cstdio>

namespace postbox::wire {

void XmlWriter::Escape(std::string_view text, std::string* out) {
  for (char c : text) {
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
        break;  // keep CR through XML line-end normalisation
      default:
        if (uint8_t(c) < 0x20 && c != '\n' && c != '\t') {
          char ref[8];
          std::snprintf(ref, sizeof(ref), "&#x%X;", unsigned(uint8_t(c)));
          out->append(ref);
        } else {
          out->push_back(c);
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
