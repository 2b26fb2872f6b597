// RequestRate: a key's burst, its sustained rate, and a clock that steps back.
#include "wire/auth/request_rate.h"

#include <gtest/gtest.h>

namespace postbox::wire::auth {
namespace {

TEST(RequestRate, BurstsOneSecondsWorthThenPaces) {
  RequestRate rate(5);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(rate.TryTake(1000)) << i;
  EXPECT_FALSE(rate.TryTake(1000));
  EXPECT_FALSE(rate.TryTake(1100));  // half a token
  EXPECT_TRUE(rate.TryTake(1200));   // one token in 200 ms
  EXPECT_FALSE(rate.TryTake(1200));
  // A long pause saves up no more than one second's worth.
  int taken = 0;
  while (rate.TryTake(60'000)) ++taken;
  EXPECT_EQ(taken, 5);
}

TEST(RequestRate, BelowOneASecondStillLetsOneThrough) {
  RequestRate rate(0.5);
  EXPECT_TRUE(rate.TryTake(0));
  EXPECT_FALSE(rate.TryTake(1000));
  EXPECT_TRUE(rate.TryTake(2000));
}

TEST(RequestRate, AClockSteppingBackRefillsNothing) {
  RequestRate rate(1);
  EXPECT_TRUE(rate.TryTake(10'000));
  EXPECT_FALSE(rate.TryTake(5'000));
  EXPECT_FALSE(rate.TryTake(10'500));
  EXPECT_TRUE(rate.TryTake(11'000));
}

}  // namespace
}  // namespace postbox::wire::auth
