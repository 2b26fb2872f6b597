#include "core/queue/message_rules.h"

#include <gtest/gtest.h>

namespace postbox::core {
namespace {

TEST(MessageRules, Md5OfAttributesMatchesAwsVectors) {
  // Vectors from the SQS Developer Guide algorithm (npm aws-md5-of-message-attributes).
  MessageAttributes a = {{"attribName1", {"String", "attribValue 1", ""}}};
  EXPECT_EQ(Md5OfAttributes(a), "19e27d4e946b072f3f58da80d94fd778");
  MessageAttributes b = {{"binaryAttribute", {"Binary", "", "Hello binary world!"}}};
  EXPECT_EQ(Md5OfAttributes(b), "31a92b15d92f8db860eda32aceb656c3");
  MessageAttributes c = a;
  c.insert(*b.begin());
  c["customNumberTypeAttrib"] = {"Number.float", "4563442423554324324264524243.32543234", ""};
  EXPECT_EQ(Md5OfAttributes(c), "c932db14a896c663f83c260297d594ff");
  EXPECT_EQ(Md5OfAttributes({}), "");
}

TEST(MessageRules, BodyAllowsXmlCharactersOnly) {
  EXPECT_TRUE(ValidateBody("hello \xC3\xA9\xE4\xB8\xAD \t\r\n").ok());
  EXPECT_TRUE(ValidateBody("\xF0\x9F\x98\x80").ok());  // emoji, above U+FFFF
  Status nul = ValidateBody(std::string("a\0b", 3));
  EXPECT_EQ(nul.code(), ErrorCode::kInvalidMessageContents);
  EXPECT_NE(nul.message().find("#x0"), std::string::npos);
  EXPECT_EQ(ValidateBody("\x01").code(), ErrorCode::kInvalidMessageContents);
  EXPECT_EQ(ValidateBody("\xFF").code(), ErrorCode::kInvalidMessageContents);          // not UTF-8
  EXPECT_EQ(ValidateBody("\xC3").code(), ErrorCode::kInvalidMessageContents);          // truncated
  EXPECT_EQ(ValidateBody("\xED\xA0\x80").code(), ErrorCode::kInvalidMessageContents);  // surrogate
  EXPECT_EQ(ValidateBody("\xEF\xBF\xBF").code(), ErrorCode::kInvalidMessageContents);  // U+FFFF
}

TEST(MessageRules, BodyCheckFindsABadByteAtEveryOffset) {
  // ValidateBody scans 8 bytes at a time: a bad byte must be found wherever it sits.
  for (char bad : {'\x00', '\x01', '\x1f', '\x0b'}) {
    for (size_t at = 0; at < 24; ++at) {
      std::string body(24, 'a');
      body[at] = bad;
      EXPECT_EQ(ValidateBody(body).code(), ErrorCode::kInvalidMessageContents)
          << int(bad) << " at " << at;
    }
  }
  for (char good : {'\t', '\n', '\r', ' ', '~', '\x7f'}) {
    std::string body(24, 'a');
    body[11] = good;
    EXPECT_TRUE(ValidateBody(body).ok()) << int(good);
  }
}

TEST(MessageRules, AttributeNamesTypesAndValues) {
  EXPECT_TRUE(ValidateAttributes({{"a.b-c_d", {"Number.int", "7", ""}}}).ok());
  EXPECT_EQ(ValidateAttributes({{"AWS.x", {"String", "v", ""}}}).code(),
            ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(ValidateAttributes({{"a..b", {"String", "v", ""}}}).code(),
            ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(ValidateAttributes({{"n", {"Number", "abc", ""}}}).code(),
            ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(ValidateAttributes({{"n", {"Float", "1", ""}}}).code(),
            ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(ValidateAttributes({{"n", {"String", "", ""}}}).code(),
            ErrorCode::kInvalidParameterValue);
  MessageAttributes eleven;
  for (int i = 0; i < 11; ++i) eleven["a" + std::to_string(i)] = {"String", "v", ""};
  EXPECT_EQ(ValidateAttributes(eleven).code(), ErrorCode::kInvalidParameterValue);
}

TEST(MessageRules, SizeCountsAttributes) {
  NewMessage m;
  m.body = "12345";
  m.attributes["ab"] = {"String", "xyz", ""};
  EXPECT_EQ(MessageSize(m), 5u + 2 + 6 + 3);
}

}  // namespace
}  // namespace postbox::core
