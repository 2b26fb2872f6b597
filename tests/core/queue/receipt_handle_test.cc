#include "core/queue/receipt_handle.h"

#include <gtest/gtest.h>

#include <cstring>

#include "base/encoding.h"

namespace postbox::core {
namespace {

TEST(ReceiptHandle, RoundTrips) {
  ReceiptHandle h{0x1234567890abcdefULL, 42, 3};
  auto decoded = ReceiptHandle::Decode(h.Encode());
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, h);
}

TEST(ReceiptHandle, RejectsAlteredOrForeignText) {
  std::string text = ReceiptHandle{1, 2, 3}.Encode();
  std::string altered = text;
  altered[5] = altered[5] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(ReceiptHandle::Decode(altered).has_value());
  EXPECT_FALSE(ReceiptHandle::Decode(text.substr(0, text.size() - 4)).has_value());
  EXPECT_FALSE(ReceiptHandle::Decode("AQEBexampleReceiptHandle+/==").has_value());
  EXPECT_FALSE(ReceiptHandle::Decode("").has_value());
}

// Handles given out before the check changed from SHA-256 (version 1) stay valid.
TEST(ReceiptHandle, ReadsVersionOneHandles) {
  std::string raw(21, '\0');
  raw[0] = 1;
  uint64_t incarnation = 7, seq = 9;
  uint32_t receives = 2;
  std::memcpy(raw.data() + 1, &incarnation, 8);
  std::memcpy(raw.data() + 9, &seq, 8);
  std::memcpy(raw.data() + 17, &receives, 4);
  std::string good = raw + Sha256(raw).substr(0, 4);
  auto decoded = ReceiptHandle::Decode(Base64Encode(good));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, (ReceiptHandle{7, 9, 2}));
  std::string bad = good;
  bad[21] = char(bad[21] ^ 1);
  EXPECT_FALSE(ReceiptHandle::Decode(Base64Encode(bad)).has_value());
}

TEST(ReceiptHandle, EveryPayloadBitChangesTheCheck) {
  std::string text = ReceiptHandle{0x1234, 99, 1}.Encode();
  auto raw = Base64Decode(text);
  ASSERT_TRUE(raw.has_value());
  EXPECT_EQ((*raw)[0], 2);  // new handles are version 2
  for (size_t bit = 8; bit < 21 * 8; ++bit) {
    std::string flipped = *raw;
    flipped[bit / 8] = char(flipped[bit / 8] ^ (1 << (bit % 8)));
    EXPECT_FALSE(ReceiptHandle::Decode(Base64Encode(flipped)).has_value()) << bit;
  }
}

}  // namespace
}  // namespace postbox::core
