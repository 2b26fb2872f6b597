// BuildMimeMessage: headers as RFC 5322 wants them, UTF-8 through encoded words and base64,
// no header injection, multipart when there are two bodies.
#include "channels/mime_message.h"

#include <gtest/gtest.h>

#include "base/encoding.h"

namespace postbox::channels {
namespace {

std::string DecodeWords(const std::string& header) {
  // Joins the base64 payloads of "=?UTF-8?B?...?=" words (folded with CRLF SP).
  std::string out;
  size_t pos = 0;
  while ((pos = header.find("=?UTF-8?B?", pos)) != std::string::npos) {
    size_t end = header.find("?=", pos + 10);
    out += *Base64Decode(header.substr(pos + 10, end - pos - 10));
    pos = end + 2;
  }
  return out;
}

TEST(MimeMessageTest, PlainAsciiStaysReadable) {
  EXPECT_EQ(EncodeHeaderText("Server sick"), "Server sick");
  EXPECT_EQ(EncodeAddress("Ops <ops@example.com>"), "Ops <ops@example.com>");
  EXPECT_EQ(BareAddress("Ops <ops@example.com>"), "ops@example.com");
  EXPECT_EQ(BareAddress("ops@example.com"), "ops@example.com");
  EXPECT_EQ(NamedAddress("Shop, Inc. \"East\"", "a@b.c"), "\"Shop, Inc. \\\"East\\\"\" <a@b.c>");
  EXPECT_EQ(NamedAddress("Shop", "a@b.c"), "Shop <a@b.c>");
}

TEST(MimeMessageTest, LongKoreanSubjectsSplitBetweenCharacters) {
  std::string subject;
  for (int i = 0; i < 40; ++i) subject += "도넛";  // 240 bytes of 3-byte characters
  std::string encoded = EncodeHeaderText(subject);
  EXPECT_EQ(DecodeWords(encoded), subject);
  size_t start = 0;
  while (start < encoded.size()) {
    size_t end = encoded.find("\r\n ", start);
    std::string word = encoded.substr(start, end == std::string::npos ? end : end - start);
    EXPECT_LE(word.size(), 75u);
    // Each word decodes on its own to whole characters.
    std::string text = DecodeWords(word);
    EXPECT_EQ(text.size() % 3, 0u);
    start = end == std::string::npos ? encoded.size() : end + 3;
  }
}

TEST(MimeMessageTest, BuildsAUtf8TextMessage) {
  MailContent c;
  c.from = "재고 알림 <alerts@shop.test>";
  c.to = {"manager@shop.test"};
  c.subject = "품절";
  c.text = "글레이즈드 도넛이 품절되었습니다.";
  c.date_ms = 1796583452000;  // 2026-12-06 18:57:32 UTC, a Sunday
  c.message_id = "abc@postbox";
  std::string m = BuildMimeMessage(c);
  EXPECT_EQ(m.find("From: =?UTF-8?B?"), 0u);
  EXPECT_NE(m.find(" <alerts@shop.test>\r\nTo: manager@shop.test\r\n"), std::string::npos);
  EXPECT_NE(m.find("Date: Sun, 06 Dec 2026 18:57:32 +0000\r\n"), std::string::npos);
  EXPECT_NE(m.find("Message-ID: <abc@postbox>\r\n"), std::string::npos);
  EXPECT_NE(m.find("MIME-Version: 1.0\r\n"), std::string::npos);
  EXPECT_NE(m.find("Content-Type: text/plain; charset=UTF-8\r\n"), std::string::npos);
  EXPECT_NE(m.find("Content-Transfer-Encoding: base64\r\n\r\n"), std::string::npos);
  std::string body = m.substr(m.find("\r\n\r\n") + 4);
  std::string joined;
  for (char ch : body) {
    if (ch != '\r' && ch != '\n') joined += ch;
  }
  EXPECT_EQ(*Base64Decode(joined), c.text);
  for (char ch : m) EXPECT_LT(static_cast<unsigned char>(ch), 0x80);  // 7-bit clean
}

TEST(MimeMessageTest, NoInputCanAddAHeader) {
  MailContent c;
  c.from = "a@b.c";
  c.to = {"x@y.z\r\nBcc: victim@example.com"};
  c.subject = "hi\r\nBcc: victim@example.com";
  c.text = "body";
  std::string m = BuildMimeMessage(c);
  EXPECT_EQ(m.find("\r\nBcc:"), std::string::npos);
}

TEST(MimeMessageTest, TextAndHtmlMakeMultipartAlternative) {
  MailContent c;
  c.from = "a@b.c";
  c.to = {"x@y.z"};
  c.cc = {"c@y.z"};
  c.reply_to = {"r@y.z"};
  c.subject = "s";
  c.text = "plain";
  c.html = "<b>bold</b>";
  std::string m = BuildMimeMessage(c);
  EXPECT_NE(m.find("Cc: c@y.z\r\n"), std::string::npos);
  EXPECT_NE(m.find("Reply-To: r@y.z\r\n"), std::string::npos);
  const std::string prefix = "Content-Type: multipart/alternative; boundary=\"";
  size_t type = m.find(prefix);
  ASSERT_NE(type, std::string::npos);
  size_t start = type + prefix.size();
  std::string boundary = m.substr(start, m.find('"', start) - start);
  EXPECT_NE(m.find("--" + boundary + "\r\nContent-Type: text/plain"), std::string::npos);
  EXPECT_NE(m.find("--" + boundary + "\r\nContent-Type: text/html"), std::string::npos);
  EXPECT_NE(m.find("--" + boundary + "--\r\n"), std::string::npos);
  EXPECT_NE(m.find(Base64Encode("<b>bold</b>")), std::string::npos);
}

}  // namespace
}  // namespace postbox::channels
