// Reading raw messages (SES SendRawEmail): header fields with folds, address lists with quoted
// commas, and the SMTP preparation (CRLF everywhere, the Bcc header gone with its folds).
#include "channels/raw_message.h"

#include <gtest/gtest.h>

#include "channels/mime_message.h"

namespace postbox::channels {
namespace {

TEST(RawMessageTest, ReadsUnfoldedHeaderFieldsUpToTheBody) {
  auto fields = ParseHeaderFields(
      "From: Shop <shop@x.test>\r\nTo: a@x.test,\r\n b@x.test\r\nbroken line\r\n"
      "subject:  hi  \r\n\r\nTo: body@x.test\r\n");
  ASSERT_EQ(fields.size(), 3u);
  EXPECT_EQ(HeaderValue(fields, "to"), "a@x.test, b@x.test");
  EXPECT_EQ(HeaderValue(fields, "Subject"), "hi");
  EXPECT_EQ(HeaderValue(fields, "Cc"), "");
}

TEST(RawMessageTest, AddressListsKeepQuotedCommasTogether) {
  EXPECT_EQ(AddressList("A <a@x.test>, \"B, Person\" <b@x.test>,c@x.test , "),
            (std::vector<std::string>{"a@x.test", "b@x.test", "c@x.test"}));
  EXPECT_EQ(AddressList(""), std::vector<std::string>{});
}

TEST(RawMessageTest, PreparesForSmtp) {
  EXPECT_EQ(PrepareForSmtp("From: a@x.test\nBcc: h@x.test,\n  i@x.test\nTo: b@x.test\n\nBcc: "
                           "stays in the body\nend"),
            "From: a@x.test\r\nTo: b@x.test\r\n\r\nBcc: stays in the body\r\nend\r\n");
  EXPECT_EQ(PrepareForSmtp("Subject: s\r\n\r\nbody\r\n"), "Subject: s\r\n\r\nbody\r\n");
  EXPECT_EQ(PrepareForSmtp(""), "\r\n");
  // A lone CR is a line end too: no "\r.\r\n" reaches the relay.
  EXPECT_EQ(PrepareForSmtp("Subject: s\r\n\r\na\r.\r\nb"), "Subject: s\r\n\r\na\r\n.\r\nb\r\n");
}

TEST(EmailAddressTest, AcceptsWhatSmtpCarries) {
  EXPECT_TRUE(IsValidEmailAddress("sales+ads@shop.test"));
  EXPECT_FALSE(IsValidEmailAddress("no-at-sign"));
  EXPECT_FALSE(IsValidEmailAddress("a@b@c"));
  EXPECT_FALSE(IsValidEmailAddress("a b@c.test"));
  EXPECT_FALSE(IsValidEmailAddress("a@x.test,b@y.test"));
  EXPECT_FALSE(IsValidEmailAddress("a@x.test\r\nRCPT TO:<v@y>"));
  EXPECT_FALSE(IsValidEmailAddress("@x.test"));
  EXPECT_FALSE(IsValidEmailAddress(std::string(250, 'a') + "@x.test"));
}

}  // namespace
}  // namespace postbox::channels
