#include "core/queue/receipt_handle.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace postbox::core
