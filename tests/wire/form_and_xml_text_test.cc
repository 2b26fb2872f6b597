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

// The word-at-a-time scan against one byte at a time: every byte value at every position of
// texts around the 8-byte word boundaries, in plain ASCII and in UTF-8 surroundings.
TEST(XmlEscape, EveryByteAtEveryPositionIsEscapedAsAlone) {
  auto reference = [](std::string_view text) {
    std::string out;
    for (char c : text) out += Escaped(std::string_view(&c, 1));
    return out;
  };
  for (std::string_view filler : {std::string_view("abcdefgh"), std::string_view("\xc3\xa9")}) {
    for (size_t length = 1; length <= 24; ++length) {
      std::string text;
      while (text.size() < length) text += filler;
      text.resize(length);
      for (size_t at = 0; at < length; ++at) {
        for (int byte = 0; byte < 256; ++byte) {
          std::string probe = text;
          probe[at] = char(byte);
          ASSERT_EQ(Escaped(probe), reference(probe))
              << "length " << length << " at " << at << " byte " << byte;
        }
      }
    }
  }
}

}  // namespace
}  // namespace postbox::wire
