#include "wire/common/json_writer.h"

#include <gtest/gtest.h>

namespace postbox::wire {
namespace {

using nlohmann::json;

std::string Reference(const json& v) {
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

TEST(JsonWriter, MatchesNlohmannDump) {
  std::vector<json> values = {
      json::object(),
      json::array(),
      json{{"a", 1}, {"b", true}, {"c", nullptr}, {"d", 2.5}, {"e", -7}},
      json{{"Messages", {{{"Body", "hello \"world\" \\ /"}, {"Id", "x"}}}}},
      json("tab\tnew\nline\rcr\bbs\fff\x01\x1f end"),
      json("caf\xC3\xA9 \xE4\xB8\xAD \xF0\x9F\x98\x80"),
      json(std::string(2000, 'x') + "\"" + std::string(10, 'y')),
  };
  for (const auto& v : values) EXPECT_EQ(ToJson(v), Reference(v)) << Reference(v);
}

TEST(JsonWriter, EscapesAtEveryOffsetOfTheWordScan) {
  // The writer scans 16 and 8 bytes at a time: put each special byte at every position of
  // the blocks, and of the tail after them.
  for (char special : {'"', '\\', '\n', '\x01', '\x7f', '\x1f', ' ', '\xff', '\x80'}) {
    for (size_t at = 0; at < 45; ++at) {
      std::string text(45, 'a');
      text[at] = special;
      json v(text);
      EXPECT_EQ(ToJson(v), Reference(v)) << int(special) << " at " << at;
    }
  }
  json multibyte(std::string(13, 'x') + "\xC3\xA9" + std::string(13, 'y'));
  EXPECT_EQ(ToJson(multibyte), Reference(multibyte));
}

TEST(JsonWriter, ReplacesInvalidUtf8) {
  std::string out;
  AppendJsonString(
      "a\xFF"
      "b\xC3",
      &out);
  EXPECT_EQ(out,
            "\"a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD\"");
  out.clear();
  AppendJsonString("\xED\xA0\x80", &out);  // a UTF-16 surrogate encoded in UTF-8
  EXPECT_EQ(out.find("\xED"), std::string::npos);
}

}  // namespace
}  // namespace postbox::wire
