#include "base/encoding.h"

#include <gtest/gtest.h>

#include <cctype>

#include "base/uuid.h"

namespace postbox {
namespace {

TEST(Encoding, Md5MatchesKnownVector) {
  EXPECT_EQ(Md5Hex("hello"), "5d41402abc4b2a76b9719d911017c592");
}

TEST(Encoding, Base64RoundTripsEveryLength) {
  std::string data;
  for (int i = 0; i < 40; ++i) {
    auto decoded = Base64Decode(Base64Encode(data));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, data);
    data.push_back(char(i * 37));
  }
  EXPECT_EQ(Base64Encode("binary"), "YmluYXJ5");
}

TEST(Encoding, Base64RejectsMalformedInput) {
  EXPECT_FALSE(Base64Decode("abc").has_value());
  EXPECT_FALSE(Base64Decode("ab=c").has_value());
  EXPECT_FALSE(Base64Decode("a===").has_value());
  EXPECT_FALSE(Base64Decode("ab!d").has_value());
}

TEST(Encoding, UuidHasVersionFour) {
  std::string id = NewUuid();
  ASSERT_EQ(id.size(), 36u);
  for (size_t i = 0; i < id.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      EXPECT_EQ(id[i], '-') << id;
    } else {
      EXPECT_TRUE(std::isxdigit(uint8_t(id[i])) && !std::isupper(uint8_t(id[i]))) << id;
    }
  }
  EXPECT_EQ(id[14], '4');
  EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;  // RFC 4122 variant
  EXPECT_NE(NewUuid(), id);
}

TEST(Uuid, BytesAndTextRoundTrip) {
  const std::string id = NewUuid();
  auto bytes = ParseUuid(id);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(FormatUuid(*bytes), id);
  EXPECT_EQ(FormatUuid(*ParseUuid("0F1E2D3C-4B5A-4978-8695-A4B3C2D1E0F0")),
            "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f0");
  EXPECT_FALSE(ParseUuid(""));
  EXPECT_FALSE(ParseUuid(id.substr(1)));
  EXPECT_FALSE(ParseUuid("0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0fg"));  // not hex
  EXPECT_FALSE(ParseUuid("0f1e2d3c04b5a-4978-8695-a4b3c2d1e0f0"));  // hyphen missing
  EXPECT_FALSE(ParseUuid("0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f0-"));
}

}  // namespace
}  // namespace postbox
