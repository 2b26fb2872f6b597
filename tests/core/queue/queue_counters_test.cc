// Queue::Counters() keeps ApproximateNumberOf* as states change instead of scanning. These
// tests drive a queue with random sends, receives, deletes, visibility changes, retention
// sweeps, redrives and purges under a ManualClock, and compare the counters after every step
// with a count made from what the queue answered. The in-flight limit reads the same
// bookkeeping.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <vector>

#include "base/clock.h"
#include "core/queue/queue.h"

namespace postbox::core {
namespace {

struct Modelled {
  int64_t visible_at_ms = 0;
  uint32_t receive_count = 0;
};

QueueCounters CountModel(const std::map<uint64_t, Modelled>& model, int64_t now) {
  QueueCounters c;
  for (const auto& [seq, m] : model) {
    if (m.visible_at_ms <= now) {
      ++c.visible;
    } else if (m.receive_count > 0) {
      ++c.not_visible;
    } else {
      ++c.delayed;
    }
  }
  return c;
}

void RunRandomOperations(bool fifo, uint32_t seed) {
  ManualClock clock;
  QueueConfig config;
  config.fifo_queue = fifo;
  config.message_retention_period = 60;
  config.redrive_policy = RedrivePolicy{"arn:aws:sqs:us-east-1:000000000000:dlq", 3};
  Queue queue(QueueId{"us-east-1", "000000000000", fifo ? "q.fifo" : "q"}, 1, config, {},
              clock.NowMillis() / 1000, clock);
  std::map<uint64_t, Modelled> model;
  std::vector<std::string> handles;
  std::mt19937 random(seed);
  auto pick = [&](int n) { return int(random() % uint32_t(n)); };
  auto forget = [&](const std::vector<Message>& gone) {
    for (const Message& m : gone) model.erase(m.seq);
  };

  for (int step = 0; step < 4000; ++step) {
    const int64_t now = clock.NowMillis();
    switch (pick(7)) {
      case 0:
      case 1: {  // send, sometimes delayed
        Message m;
        m.seq = queue.ReserveSeqs(1);
        m.message_group_id = fifo ? "g" + std::to_string(pick(4)) : "";
        m.sent_ms = now;
        m.state.visible_at_ms = now + (pick(3) == 0 ? pick(5000) : 0);
        model[m.seq] = {m.state.visible_at_ms, 0};
        queue.Insert({std::move(m)});
        break;
      }
      case 2: {  // receive, sometimes with a zero visibility timeout or an in-flight limit
        ReceiveOptions options;
        options.max_messages = 1 + pick(10);
        options.visibility_timeout = pick(4) == 0 ? 0 : pick(10);
        if (pick(3) == 0) options.max_in_flight = 1 + pick(20);
        const int64_t in_flight_before = CountModel(model, now).not_visible;
        Queue::ReceiveOutcome out = queue.Receive(options);
        if (out.status.code() == ErrorCode::kOverLimit) {
          ASSERT_GE(in_flight_before, options.max_in_flight) << "step " << step;
        }
        for (const auto& r : out.received) {
          model[r.message->seq] = {r.message->state.visible_at_ms, r.message->state.receive_count};
          handles.push_back(r.receipt_handle);
        }
        forget(out.expired);
        forget(out.to_dead_letter);
        if (options.max_in_flight > 0 && *options.visibility_timeout > 0) {
          ASSERT_LE(CountModel(model, now).not_visible,
                    std::max(in_flight_before, options.max_in_flight))
              << "step " << step;
        }
        break;
      }
      case 3: {  // delete by a handle, current or stale
        if (handles.empty()) break;
        auto removed = queue.Delete(handles[size_t(pick(int(handles.size())))]);
        if (removed.ok() && removed->found) model.erase(removed->seq);
        break;
      }
      case 4: {  // change visibility
        if (handles.empty()) break;
        auto changed = queue.ChangeVisibility(handles[size_t(pick(int(handles.size())))], pick(10));
        if (changed.ok() && changed->has_value()) {
          model[(*changed)->first] = {(*changed)->second.visible_at_ms,
                                      (*changed)->second.receive_count};
        }
        break;
      }
      case 5:  // time passes; now and then past the retention period
        clock.Advance(pick(50) == 0 ? 61'000 : pick(3000));
        // Not always swept: a receive then meets expired messages itself.
        if (pick(2) == 0) {
          for (uint64_t seq : queue.SweepExpired()) model.erase(seq);
        }
        break;
      case 6:
        if (pick(200) == 0 && queue.Purge()) model.clear();
        break;
    }
    // Not read after every step, so that changes meet entries whose time passed unread.
    if (pick(3) != 0) continue;
    const QueueCounters want = CountModel(model, clock.NowMillis());
    const QueueCounters got = queue.Counters();
    ASSERT_EQ(got.visible, want.visible) << "step " << step;
    ASSERT_EQ(got.not_visible, want.not_visible) << "step " << step;
    ASSERT_EQ(got.delayed, want.delayed) << "step " << step;
  }
}

TEST(QueueCounters, FollowEveryChangeOfAStandardQueue) {
  for (uint32_t seed = 1; seed <= 5; ++seed) RunRandomOperations(false, seed);
}

TEST(QueueCounters, FollowEveryChangeOfAFifoQueue) {
  for (uint32_t seed = 1; seed <= 5; ++seed) RunRandomOperations(true, seed);
}

TEST(QueueCounters, ALargeQueueWithOneMessageInFlight) {
  ManualClock clock;
  Queue queue(QueueId{"us-east-1", "000000000000", "big"}, 1, QueueConfig{}, {}, 0, clock);
  std::vector<Message> batch(100'000);
  for (auto& m : batch) {
    m.seq = queue.ReserveSeqs(1);
    m.sent_ms = clock.NowMillis();
    m.state.visible_at_ms = clock.NowMillis();
  }
  queue.Insert(std::move(batch));
  ReceiveOptions one;
  ASSERT_EQ(queue.Receive(one).received.size(), 1u);
  QueueCounters c = queue.Counters();
  EXPECT_EQ(c.visible, 99'999);
  EXPECT_EQ(c.not_visible, 1);
  EXPECT_EQ(c.delayed, 0);
  clock.AdvanceSeconds(31);  // the default visibility timeout ran out
  c = queue.Counters();
  EXPECT_EQ(c.visible, 100'000);
  EXPECT_EQ(c.not_visible, 0);
}

void SendVisible(Queue& queue, const Clock& clock, int count, int groups = 1) {
  std::vector<Message> batch(static_cast<size_t>(count));
  for (size_t i = 0; i < batch.size(); ++i) {
    batch[i].seq = queue.ReserveSeqs(1);
    batch[i].sent_ms = clock.NowMillis();
    batch[i].state.visible_at_ms = clock.NowMillis();
    if (queue.fifo()) batch[i].message_group_id = "g" + std::to_string(int(i) % groups);
  }
  queue.Insert(std::move(batch));
}

TEST(QueueInFlightLimit, AStandardQueueAtTheLimitAnswersOverLimit) {
  ManualClock clock;
  Queue queue(QueueId{"us-east-1", "000000000000", "q"}, 1, QueueConfig{}, {}, 0, clock);
  SendVisible(queue, clock, 10);
  ReceiveOptions options;
  options.max_messages = 10;
  options.max_in_flight = 3;
  Queue::ReceiveOutcome first = queue.Receive(options);
  ASSERT_TRUE(first.status.ok());
  ASSERT_EQ(first.received.size(), 3u);  // only as many as the limit leaves room for
  Queue::ReceiveOutcome refused = queue.Receive(options);
  EXPECT_EQ(refused.status.code(), ErrorCode::kOverLimit);
  EXPECT_TRUE(refused.received.empty());
  EXPECT_EQ(queue.stats().over_limit.value(), 1u);
  // Deleting one, or letting one's visibility run out, makes room again.
  ASSERT_TRUE(queue.Delete(first.received[0].receipt_handle).ok());
  EXPECT_EQ(queue.Receive(options).received.size(), 1u);
  ASSERT_TRUE(queue.ChangeVisibility(first.received[1].receipt_handle, 0).ok());
  EXPECT_EQ(queue.Receive(options).received.size(), 1u);
  clock.AdvanceSeconds(31);
  EXPECT_EQ(queue.Receive(options).received.size(), 3u);
  EXPECT_EQ(queue.Receive(options).status.code(), ErrorCode::kOverLimit);
}

TEST(QueueInFlightLimit, AFifoQueueAtTheLimitAnswersWithNoMessages) {
  ManualClock clock;
  QueueConfig config;
  config.fifo_queue = true;
  Queue queue(QueueId{"us-east-1", "000000000000", "q.fifo"}, 1, config, {}, 0, clock);
  SendVisible(queue, clock, 6, 6);  // six groups of one message
  ReceiveOptions options;
  options.max_messages = 10;
  options.max_in_flight = 2;
  Queue::ReceiveOutcome first = queue.Receive(options);
  ASSERT_EQ(first.received.size(), 2u);
  Queue::ReceiveOutcome held = queue.Receive(options);
  EXPECT_TRUE(held.status.ok());
  EXPECT_TRUE(held.received.empty());
  EXPECT_EQ(queue.stats().over_limit.value(), 1u);
  ASSERT_TRUE(queue.Delete(first.received[0].receipt_handle).ok());
  EXPECT_EQ(queue.Receive(options).received.size(), 1u);
}

}  // namespace
}  // namespace postbox::core
