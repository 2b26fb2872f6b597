// HeldStates: which lazy state updates the RocksDB engine writes, and when.
#include "storage/rocksdb/held_states.h"

#include <gtest/gtest.h>

#include <vector>

namespace postbox::storage {
namespace {

using std::chrono::milliseconds;
using Clock = HeldStates::Clock;

struct Written {
  MessageRef ref;
  MessageState state;
  bool operator==(const Written&) const = default;
};

std::vector<Written> TakeDue(HeldStates& held, Clock::time_point now) {
  std::vector<Written> out;
  held.TakeDue(now, [&](const MessageRef& r, const MessageState& s) { out.push_back({r, s}); });
  return out;
}

TEST(HeldStates, WritesAStateOnlyOnceItIsDue) {
  HeldStates held(milliseconds(1000));
  const Clock::time_point t0{};
  held.Hold({1, 7}, {5, 1, 4}, t0);
  EXPECT_EQ(held.NextDue(), t0 + milliseconds(1000));
  EXPECT_TRUE(TakeDue(held, t0 + milliseconds(999)).empty());
  EXPECT_EQ(TakeDue(held, t0 + milliseconds(1000)), (std::vector<Written>{{{1, 7}, {5, 1, 4}}}));
  EXPECT_EQ(held.size(), 0u);
  EXPECT_TRUE(TakeDue(held, t0 + milliseconds(5000)).empty());
}

TEST(HeldStates, ANewerStateReplacesTheHeldOneButKeepsItsDueTime) {
  HeldStates held(milliseconds(1000));
  const Clock::time_point t0{};
  held.Hold({1, 7}, {5, 1, 4}, t0);
  held.Hold({1, 7}, {9, 2, 4}, t0 + milliseconds(600));
  EXPECT_EQ(TakeDue(held, t0 + milliseconds(1000)), (std::vector<Written>{{{1, 7}, {9, 2, 4}}}));
}

TEST(HeldStates, ForgottenStatesAreNeverWritten) {
  HeldStates held(milliseconds(1000));
  const Clock::time_point t0{};
  held.Hold({1, 1}, {1, 1, 1}, t0);
  held.Hold({1, 2}, {2, 1, 2}, t0);
  held.Hold({2, 1}, {3, 1, 3}, t0);
  held.Forget({1, 1});
  held.ForgetQueue(2);
  EXPECT_EQ(held.size(), 1u);
  EXPECT_EQ(TakeDue(held, t0 + milliseconds(1000)), (std::vector<Written>{{{1, 2}, {2, 1, 2}}}));
}

TEST(HeldStates, NextDueSkipsForgottenStates) {
  HeldStates held(milliseconds(1000));
  const Clock::time_point t0{};
  held.Hold({1, 1}, {1, 1, 1}, t0);
  held.Hold({1, 2}, {2, 1, 2}, t0 + milliseconds(300));
  held.Forget({1, 1});
  EXPECT_EQ(held.NextDue(), t0 + milliseconds(1300));
  held.Forget({1, 2});
  EXPECT_EQ(held.NextDue(), Clock::time_point::max());
}

TEST(HeldStates, AStateHeldAgainAfterBeingForgottenGetsANewDueTime) {
  HeldStates held(milliseconds(1000));
  const Clock::time_point t0{};
  held.Hold({1, 1}, {1, 1, 1}, t0);
  held.Forget({1, 1});
  held.Hold({1, 1}, {2, 2, 1}, t0 + milliseconds(500));
  EXPECT_TRUE(TakeDue(held, t0 + milliseconds(1000)).empty());  // the stale entry is skipped
  EXPECT_EQ(TakeDue(held, t0 + milliseconds(1500)), (std::vector<Written>{{{1, 1}, {2, 2, 1}}}));
}

TEST(HeldStates, TakeAllWritesEverythingInDueOrder) {
  HeldStates held(milliseconds(1000));
  const Clock::time_point t0{};
  held.Hold({1, 2}, {2, 1, 2}, t0);
  held.Hold({1, 1}, {1, 1, 1}, t0 + milliseconds(1));
  std::vector<Written> out;
  held.TakeAll([&](const MessageRef& r, const MessageState& s) { out.push_back({r, s}); });
  EXPECT_EQ(out, (std::vector<Written>{{{1, 2}, {2, 1, 2}}, {{1, 1}, {1, 1, 1}}}));
  EXPECT_EQ(held.NextDue(), Clock::time_point::max());
}

}  // namespace
}  // namespace postbox::storage
