// The query protocol's text edges: form values decoded (wire::UrlDecode) and XML text escaped
// (XmlWriter::Escape), escapes at the start, middle and end of plain runs.
#include <gtest/gtest.h>

#include <string>

#include "wire/common/form.h"
#include "wire/common/xml_writer.h"

namespace postbox::wire {
namespace {

TEST(UrlDecode, DecodesPlusAndPercentEscapesAnywhereInPlainText) {
  EXPECT_EQ(UrlDecode(""), "");
  EXPECT_EQ(UrlDecode("plain"), "plain");
  EXPECT_EQ(UrlDecode("a+b"), "a b");
  EXPECT_EQ(UrlDecode("+"), " ");
  EXPECT_EQ(UrlDecode("%41bc"), "Abc");
  EXPECT_EQ(UrlDecode("ab%7C"), "ab|");
  EXPECT_EQ(UrlDecode("%7c%7C"), "||");
  EXPECT_EQ(UrlDecode("x%2By+z%25"), "x+y z%");
  EXPECT_EQ(UrlDecode("%00"), std::string(1, '\0'));
  EXPECT_EQ(UrlDecode("%E2%9C%93 ok"), "\u2713 ok");
}

TEST(UrlDecode, RefusesIncompleteOrNonHexEscapes) {
  for (const char* bad : {"%", "%4", "a%4", "%zz", "%4g", "ab%", "%%41"}) {
    EXPECT_FALSE(UrlDecode(bad).has_value()) << bad;
  }
}

std::string Escaped(std::string_view text) {
  std::string out;
  XmlWriter::Escape(text, &out);
  return out;
}

TEST(XmlEscape, WritesMarkupAndControlCharactersAsReferences) {
  EXPECT_EQ(Escaped(""), "");
  EXPECT_EQ(Escaped("plain text"), "plain text");
  EXPECT_EQ(Escaped("<a href=\"x\">Tom & 'Jerry'</a>"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &apos;Jerry&apos;&lt;/a&gt;");
  EXPECT_EQ(Escaped("line\r\nnext\tcell"), "line&#xD;\nnext\tcell");
  EXPECT_EQ(Escaped(std::string("\x01"
                                "a\x1f",
                                3)),
            "&#x1;a&#x1F;");
  EXPECT_EQ(Escaped("&"), "&amp;");
  EXPECT_EQ(Escaped("\u00e9\u2713"), "\u00e9\u2713");  // UTF-8 passes through
}

}  // namespace
}  // namespace postbox::wire
