#include "wire/common/json_reader.h"

#include <gtest/gtest.h>

namespace postbox::wire {
namespace {

using nlohmann::json;

TEST(JsonReader, ParsesLikeNlohmann) {
  for (const char* text :
       {R"({"QueueUrl":"u","Entries":[{"Id":"a","DelaySeconds":5}],"x":null,"t":true})",
        R"([1,-2,18446744073709551615,2.5,-0.0,1e10,"\u00e9\ud83d\ude00"])", R"("s")", "0",
        R"({"a":1,"a":2})"}) {
    auto parsed = ParseJson(text);
    ASSERT_TRUE(parsed.has_value()) << text;
    EXPECT_EQ(*parsed, json::parse(text)) << text;
  }
}

TEST(JsonReader, RejectsMalformedInput) {
  for (const char* text :
       {"", "{", R"({"a":})", "[1,]", "{'a':1}", "\xFF", "{\"a\":\"\xC3\"}", "nul", "1 2"}) {
    EXPECT_FALSE(ParseJson(text).has_value()) << text;
  }
}

}  // namespace
}  // namespace postbox::wire
