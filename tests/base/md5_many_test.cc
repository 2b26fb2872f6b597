#include "base/md5_many.h"

#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "base/encoding.h"

namespace postbox {
namespace {

TEST(Md5HexMany, KnownDigests) {
  // RFC 1321's test suite, side by side.
  const std::string_view inputs[] = {
      "",
      "a",
      "abc",
      "message digest",
      "abcdefghijklmnopqrstuvwxyz",
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
      "12345678901234567890123456789012345678901234567890123456789012345678901234567890"};
  const std::vector<std::string> digests = Md5HexMany(inputs);
  const char* expected[] = {"d41d8cd98f00b204e9800998ecf8427e", "0cc175b9c0f1b6a831c399e269772661",
                            "900150983cd24fb0d6963f7d28e17f72", "f96b697d7cb7938d525a2f31aaf161d0",
                            "c3fcd3d76192e4007dfb496cca67e13b", "d174ab98d277d9f5a5611c2c9f419d9f",
                            "57edf4a22be3c955ac49da2e2107b67a"};
  ASSERT_EQ(digests.size(), 7u);
  for (size_t i = 0; i < 7; ++i) EXPECT_EQ(digests[i], expected[i]) << inputs[i];
}

TEST(Md5HexMany, MatchesOpenSslForEveryLengthAndCount) {
  std::mt19937 random(7);
  std::string bytes(5000, '\0');
  for (char& c : bytes) c = char(random());
  // Every length around the padding boundaries, in groups of every size up to 20.
  std::vector<std::string_view> inputs;
  for (size_t len = 0; len <= 200; ++len)
    inputs.push_back(std::string_view(bytes).substr(len, len));
  for (size_t len : {1000, 1024, 1087, 1088, 4096, 4999}) {
    inputs.push_back(std::string_view(bytes).substr(0, len));
  }
  for (size_t count = 1; count <= 20; ++count) {
    for (size_t first = 0; first + count <= inputs.size(); first += count) {
      std::span<const std::string_view> group(inputs.data() + first, count);
      const std::vector<std::string> digests = Md5HexMany(group);
      for (size_t i = 0; i < count; ++i) {
        ASSERT_EQ(digests[i], Md5Hex(group[i])) << "length " << group[i].size() << " of " << count;
      }
    }
  }
  // Lengths mixed at random, as a batch of bodies is.
  for (int round = 0; round < 200; ++round) {
    std::vector<std::string_view> mixed;
    const size_t count = 1 + random() % 10;
    for (size_t i = 0; i < count; ++i) {
      const size_t len = random() % 3000;
      mixed.push_back(std::string_view(bytes).substr(random() % (bytes.size() - len), len));
    }
    const std::vector<std::string> digests = Md5HexMany(mixed);
    for (size_t i = 0; i < count; ++i) ASSERT_EQ(digests[i], Md5Hex(mixed[i]));
  }
}

}  // namespace
}  // namespace postbox
