#include "core/queue/message_codec.h"

#include <gtest/gtest.h>

namespace postbox::core {
namespace {

TEST(MessageCodec, RoundTripsEveryField) {
  Message m;
  m.message_id = "id-1";
  m.body = std::string("body with \0 byte", 16);
  m.sent_ms = 1'700'000'000'123;
  m.sender_id = "AKID";
  m.message_group_id = "g";
  m.attributes["s"] = {"String", "v", ""};
  m.attributes["b"] = {"Binary", "", std::string("\x00\x01", 2)};
  m.system_attributes["AWSTraceHeader"] = {"String", "Root=1", ""};
  m.md5_of_attributes = "abc";
  Message out;
  ASSERT_TRUE(DecodeMessage(EncodeMessage(m), &out).ok());
  EXPECT_EQ(out.message_id, m.message_id);
  EXPECT_EQ(out.body, m.body);
  EXPECT_EQ(out.sent_ms, m.sent_ms);
  EXPECT_EQ(out.attributes, m.attributes);
  EXPECT_EQ(out.system_attributes, m.system_attributes);
  EXPECT_EQ(out.md5_of_attributes, "abc");
}

TEST(MessageCodec, RejectsEveryTruncation) {
  Message m;
  m.message_id = "id";
  m.body = "hello";
  m.attributes["s"] = {"String", "v", ""};
  std::string encoded = EncodeMessage(m);
  for (size_t n = 0; n < encoded.size(); ++n) {
    Message out;
    EXPECT_EQ(DecodeMessage(encoded.substr(0, n), &out).code(), ErrorCode::kStorageError) << n;
  }
}

}  // namespace
}  // namespace postbox::core
