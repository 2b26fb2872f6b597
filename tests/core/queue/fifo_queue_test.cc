// FIFO queue semantics through QueueService, with a ManualClock: time moves by Advance(), never
// by sleeping. Expected texts and codes follow AWS (see the FIFO research notes): message
// groups, deduplication, SequenceNumber, ReceiveRequestAttemptId, creation and redrive rules.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <random>
#include <set>
#include <stdexcept>

#include "core/queue/queue_service.h"
#include "core/queue/sync_calls.h"
#include "storage/memory_engine.h"

namespace postbox::core {
namespace {

constexpr char kRegion[] = "us-east-1";
constexpr char kAccount[] = "000000000000";

std::string Arn(const std::string& name) {
  return std::string("arn:aws:sqs:") + kRegion + ":" + kAccount + ":" + name;
}

std::string Redrive(const std::string& dlq_name, int max_receive_count) {
  return R"({"deadLetterTargetArn":")" + Arn(dlq_name) + R"(","maxReceiveCount":)" +
         std::to_string(max_receive_count) + "}";
}

NewMessage Fifo(const std::string& body, const std::string& group,
                const std::string& deduplication_id = "") {
  NewMessage m;
  m.body = body;
  if (!group.empty()) m.message_group_id = group;  // "" stands for no MessageGroupId
  // Default: the body, so that every distinct body is a distinct message.
  m.message_deduplication_id = deduplication_id.empty() ? body : deduplication_id;
  return m;
}

std::vector<std::string> Bodies(const std::vector<ReceivedMessage>& received) {
  std::vector<std::string> out;
  for (const auto& r : received) out.push_back(r.message->body);
  return out;
}

std::vector<std::string> Handles(const std::vector<ReceivedMessage>& received) {
  std::vector<std::string> out;
  for (const auto& r : received) out.push_back(r.receipt_handle);
  return out;
}

bool IsSequenceNumber(const std::string& s) {
  return s.size() == 20 && s[0] != '0' &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(uint8_t(c)); });
}

class FifoQueueTest : public ::testing::Test {
 protected:
  FifoQueueTest() : service_(engine_, clock_) {}

  Status CreateStatus(const std::string& name, AttributeMap attributes = {}) {
    Status out(ErrorCode::kInternal, "not called");
    service_.CreateQueue({kRegion, kAccount, name}, std::move(attributes), {},
                         [&](Result<QueuePtr> r) { out = r.status(); });
    return out;
  }
  QueuePtr Create(const std::string& name, AttributeMap attributes = {}) {
    Result<QueuePtr> out = Status(ErrorCode::kInternal, "not called");
    service_.CreateQueue({kRegion, kAccount, name}, std::move(attributes), {},
                         [&](Result<QueuePtr> r) { out = std::move(r); });
    EXPECT_TRUE(out.ok()) << name << ": " << out.status().ToString();
    return out.ok() ? *out : nullptr;
  }
  // A FIFO queue: `name` must end in ".fifo".
  QueuePtr CreateFifo(const std::string& name, AttributeMap attributes = {}) {
    attributes["FifoQueue"] = "true";
    return Create(name, std::move(attributes));
  }
  std::vector<Result<SentMessage>> Send(QueueService& service, const QueuePtr& q,
                                        std::vector<NewMessage> messages) {
    std::vector<Result<SentMessage>> out;
    service.SendMessages(q, std::move(messages), "AKID",
                         [&](std::vector<Result<SentMessage>> r) { out = std::move(r); });
    return out;
  }
  std::vector<Result<SentMessage>> Send(const QueuePtr& q, std::vector<NewMessage> messages) {
    return Send(service_, q, std::move(messages));
  }
  Status SendStatus(const QueuePtr& q, NewMessage m) {
    return Send(q, {std::move(m)}).at(0).status();
  }
  SentMessage SendOne(QueueService& service, const QueuePtr& q, NewMessage m) {
    auto r = Send(service, q, {std::move(m)});
    EXPECT_TRUE(r.at(0).ok()) << r.at(0).status().ToString();
    return r.at(0).ok() ? *r.at(0) : SentMessage{};
  }
  SentMessage SendOne(const QueuePtr& q, NewMessage m) {
    return SendOne(service_, q, std::move(m));
  }
  // `service`, loaded from this test's storage as at a restart: its copy of `q`, or null.
  QueuePtr LoadAgain(QueueService& service, const QueuePtr& q) {
    if (!service.Load().ok()) return nullptr;
    auto loaded = service.GetQueue(q->id());
    return loaded.ok() ? *loaded : nullptr;
  }
  // Receives and deletes the one message of `q` (sent as `first`: body "m", group "A",
  // deduplication id "d1"), restarts into `restarted` 10 s later and sends it again there: a
  // duplicate of `first`, nothing enqueued. The queue as loaded again, null if it was not.
  QueuePtr ConsumeRestartAndSendAgain(QueueService& restarted, const QueuePtr& q,
                                      const SentMessage& first) {
    auto got = Receive(q);
    EXPECT_EQ(got.size(), 1u);
    if (got.size() != 1) return nullptr;
    Delete(q, got[0]);
    clock_.AdvanceSeconds(10);
    QueuePtr q2 = LoadAgain(restarted, q);
    if (!q2) return nullptr;
    SentMessage again = SendOne(restarted, q2, Fifo("m", "A", "d1"));
    EXPECT_EQ(again.message_id, first.message_id);
    EXPECT_EQ(again.sequence_number, first.sequence_number);
    EXPECT_TRUE(Receive(restarted, q2).empty());
    return q2;
  }
  SentMessage SendOne(const QueuePtr& q, const std::string& body, const std::string& group) {
    return SendOne(q, Fifo(body, group));
  }
  std::vector<ReceivedMessage> Receive(QueueService& service, const QueuePtr& q, int max = 10,
                                       std::optional<int> visibility = {},
                                       const std::string& attempt_id = "") {
    auto got = service.Receive(q, ReceiveOptions{max, visibility, attempt_id});
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? std::move(*got) : std::vector<ReceivedMessage>{};
  }
  std::vector<ReceivedMessage> Receive(const QueuePtr& q, int max = 10,
                                       std::optional<int> visibility = {},
                                       const std::string& attempt_id = "") {
    return Receive(service_, q, max, visibility, attempt_id);
  }
  // A receive that must not throw (the FIFO redrive/retention paths once did).
  std::optional<std::vector<ReceivedMessage>> TryReceive(const QueuePtr& q, int max = 10) {
    try {
      return Receive(q, max);
    } catch (const std::out_of_range&) {
      return std::nullopt;
    }
  }
  void Delete(const QueuePtr& q, const ReceivedMessage& r) {
    EXPECT_TRUE(DeleteNow(service_, q, r.receipt_handle).ok());
  }
  Status SetAttributes(const QueuePtr& q, AttributeMap attributes) {
    Status out(ErrorCode::kInternal, "not called");
    service_.SetAttributes(q, attributes, [&](Status s) { out = s; });
    return out;
  }
  std::string Attribute(const QueuePtr& q, const std::string& name) {
    auto attributes = service_.GetAttributes(*q, {name});
    EXPECT_TRUE(attributes.ok()) << attributes.status().ToString();
    return attributes.ok() ? (*attributes)[name] : "";
  }
  // (visible, not visible, delayed) as GetQueueAttributes reports them.
  std::vector<std::string> Counters(const QueuePtr& q) {
    return {Attribute(q, "ApproximateNumberOfMessages"),
            Attribute(q, "ApproximateNumberOfMessagesNotVisible"),
            Attribute(q, "ApproximateNumberOfMessagesDelayed")};
  }

  ManualClock clock_;
  storage::MemoryEngine engine_;
  QueueService service_;
};

// --- ordering and message groups ---

TEST_F(FifoQueueTest, StrictOrderPerGroupWithCompetingConsumers) {
  QueuePtr q = CreateFifo("order.fifo");
  constexpr int kGroups = 20;
  constexpr int kPerGroup = 10;
  // Interleaved: g0-0, g1-0, ..., g19-0, g0-1, ... so groups compete for every receive.
  for (int i = 0; i < kPerGroup; ++i) {
    for (int g = 0; g < kGroups; ++g) {
      SendOne(q, "g" + std::to_string(g) + "-" + std::to_string(i), "g" + std::to_string(g));
    }
  }
  // Consumers receive 1..10 messages each and hold them for a while before deleting them, so
  // that many groups are in flight at once. A fixed seed keeps the interleaving reproducible.
  std::mt19937 rng(20240611);
  std::vector<std::vector<ReceivedMessage>> held;    // one entry per consumer holding messages
  std::map<std::string, int> in_flight_per_group;    // group -> messages held
  std::map<std::string, std::vector<int>> received;  // group -> indexes in receive order
  std::set<std::string> ids;
  int total = 0;
  for (int step = 0; step < 10'000 && (total < kGroups * kPerGroup || !held.empty()); ++step) {
    if (held.empty() || rng() % 3 != 0) {
      int max = 1 + int(rng() % 10);
      auto got = Receive(q, max);
      ASSERT_LE(int(got.size()), max);
      std::set<std::string> groups_in_this_receive;
      for (const auto& r : got) {
        const std::string& group = r.message->message_group_id;
        // A group with a message held by another consumer delivers nothing more.
        ASSERT_EQ(in_flight_per_group[group], 0)
            << "group " << group << " delivered while in flight";
        groups_in_this_receive.insert(group);
        ASSERT_TRUE(ids.insert(r.message->message_id).second)
            << "received twice: " << r.message->body;
        const std::string& body = r.message->body;
        received[group].push_back(std::stoi(body.substr(body.find('-') + 1)));
        ++total;
      }
      for (const auto& r : got) ++in_flight_per_group[r.message->message_group_id];
      if (!got.empty()) held.push_back(std::move(got));
    } else {
      size_t which = rng() % held.size();
      for (const auto& r : held[which]) {
        Delete(q, r);
        --in_flight_per_group[r.message->message_group_id];
      }
      held.erase(held.begin() + long(which));
    }
  }
  EXPECT_EQ(total, kGroups * kPerGroup);
  ASSERT_EQ(received.size(), size_t(kGroups));
  std::vector<int> in_order(kPerGroup);
  for (int i = 0; i < kPerGroup; ++i) in_order[i] = i;
  for (const auto& [group, indexes] : received) EXPECT_EQ(indexes, in_order) << group;
  EXPECT_TRUE(Receive(q).empty());
  EXPECT_EQ(engine_.message_count(), 0u);
}

TEST_F(FifoQueueTest, InFlightMessageBlocksOnlyItsGroupUntilDeleted) {
  QueuePtr q = CreateFifo("block.fifo");
  SendOne(q, "a1", "A");
  SendOne(q, "a2", "A");
  SendOne(q, "b1", "B");
  SendOne(q, "b2", "B");
  auto a = Receive(q, 1);
  ASSERT_EQ(Bodies(a), std::vector<std::string>{"a1"});
  // A is blocked behind a1; B still flows.
  auto b = Receive(q, 1);
  ASSERT_EQ(Bodies(b), std::vector<std::string>{"b1"});
  EXPECT_TRUE(Receive(q).empty());  // both groups blocked now
  Delete(q, a[0]);
  EXPECT_EQ(Bodies(Receive(q)), std::vector<std::string>{"a2"});
  Delete(q, b[0]);
  EXPECT_EQ(Bodies(Receive(q)), std::vector<std::string>{"b2"});
}

TEST_F(FifoQueueTest, VisibilityTimeoutExpiryReleasesGroupInOrder) {
  QueuePtr q = CreateFifo("expire.fifo", {{"VisibilityTimeout", "30"}});
  SendOne(q, "a1", "A");
  SendOne(q, "a2", "A");
  ASSERT_EQ(Bodies(Receive(q, 1)), std::vector<std::string>{"a1"});
  clock_.AdvanceSeconds(29);
  EXPECT_TRUE(Receive(q).empty());  // a2 must not overtake the in-flight a1
  clock_.AdvanceSeconds(1);
  // a1 comes back first, then its successor, in the same receive.
  auto again = Receive(q);
  ASSERT_EQ(Bodies(again), (std::vector<std::string>{"a1", "a2"}));
  EXPECT_EQ(again[0].message->state.receive_count, 2u);
  EXPECT_EQ(again[1].message->state.receive_count, 1u);
}

TEST_F(FifoQueueTest, ReceiveVisibilityTimeoutOverrideAppliesToGroup) {
  QueuePtr q = CreateFifo("override.fifo");
  SendOne(q, "a1", "A");
  SendOne(q, "a2", "A");
  ASSERT_EQ(Bodies(Receive(q, 1, /*visibility=*/5)), std::vector<std::string>{"a1"});
  clock_.AdvanceSeconds(4);
  EXPECT_TRUE(Receive(q).empty());
  clock_.AdvanceSeconds(1);
  EXPECT_EQ(Bodies(Receive(q, 1)), std::vector<std::string>{"a1"});
}

TEST_F(FifoQueueTest, ChangeVisibilityToZeroReleasesGroup) {
  QueuePtr q = CreateFifo("cv.fifo");
  SendOne(q, "a1", "A");
  SendOne(q, "a2", "A");
  auto got = Receive(q, 1);
  ASSERT_EQ(Bodies(got), std::vector<std::string>{"a1"});
  EXPECT_TRUE(Receive(q).empty());
  ASSERT_TRUE(ChangeVisibilityNow(service_, q, got[0].receipt_handle, 0).ok());
  // The released message is the group's first again: it is delivered before a2.
  auto again = Receive(q, 1);
  ASSERT_EQ(Bodies(again), std::vector<std::string>{"a1"});
  EXPECT_EQ(again[0].message->state.receive_count, 2u);
  Delete(q, again[0]);
  EXPECT_EQ(Bodies(Receive(q)), std::vector<std::string>{"a2"});
}

TEST_F(FifoQueueTest, ChangeVisibilityOfLaterMessageDoesNotUnblockGroup) {
  QueuePtr q = CreateFifo("cv2.fifo");
  SendOne(q, "a1", "A");
  SendOne(q, "a2", "A");
  SendOne(q, "a3", "A");
  auto got = Receive(q, 2);
  ASSERT_EQ(Bodies(got), (std::vector<std::string>{"a1", "a2"}));
  // a2 visible again while a1 is still in flight: a2 (and a3 behind it) must wait for a1.
  ASSERT_TRUE(ChangeVisibilityNow(service_, q, got[1].receipt_handle, 0).ok());
  EXPECT_TRUE(Receive(q).empty());
  Delete(q, got[0]);
  EXPECT_EQ(Bodies(Receive(q)), (std::vector<std::string>{"a2", "a3"}));
}

TEST_F(FifoQueueTest, ReceiveReturnsConsecutiveMessagesOfOneGroupTogether) {
  QueuePtr q = CreateFifo("together.fifo");
  // Interleaved sends of two groups.
  SendOne(q, "a1", "A");
  SendOne(q, "b1", "B");
  SendOne(q, "a2", "A");
  SendOne(q, "b2", "B");
  SendOne(q, "a3", "A");
  // As many messages of one group as possible, in order, then the next group.
  EXPECT_EQ(Bodies(Receive(q, 10)), (std::vector<std::string>{"a1", "a2", "a3", "b1", "b2"}));
}

TEST_F(FifoQueueTest, ReceiveOfFewerThanAGroupTakesItsFirstMessages) {
  QueuePtr q = CreateFifo("partial.fifo");
  for (const char* body : {"a1", "a2", "a3"}) SendOne(q, body, "A");
  SendOne(q, "b1", "B");
  EXPECT_EQ(Bodies(Receive(q, 2)), (std::vector<std::string>{"a1", "a2"}));
  // a3 is behind in-flight messages of its group: the next receive goes to B.
  EXPECT_EQ(Bodies(Receive(q, 2)), std::vector<std::string>{"b1"});
}

// --- deduplication ---

TEST_F(FifoQueueTest, DuplicateWithinWindowAnswersOriginalAndIsNotDelivered) {
  QueuePtr q = CreateFifo("dedup.fifo");
  SentMessage first = SendOne(q, Fifo("original", "A", "d1"));
  clock_.AdvanceSeconds(60);
  SentMessage second = SendOne(q, Fifo("retry with another body", "A", "d1"));
  EXPECT_EQ(second.message_id, first.message_id);
  EXPECT_EQ(second.sequence_number, first.sequence_number);
  auto got = Receive(q);
  ASSERT_EQ(Bodies(got), std::vector<std::string>{"original"});
  Delete(q, got[0]);
  // Deleting the original does not end the interval: the id is still a duplicate.
  clock_.AdvanceSeconds(60);
  SentMessage third = SendOne(q, Fifo("original", "A", "d1"));
  EXPECT_EQ(third.message_id, first.message_id);
  EXPECT_EQ(third.sequence_number, first.sequence_number);
  EXPECT_TRUE(Receive(q).empty());
  EXPECT_EQ(engine_.message_count(), 0u);
}

// Storage that is behind refuses the send before its deduplication id is claimed: a retry (or
// a concurrent duplicate) is a new send, never answered as a duplicate of nothing stored.
TEST_F(FifoQueueTest, AThrottledSendClaimsNothing) {
  QueuePtr q = CreateFifo("throttled.fifo");
  engine_.ThrottleNewDataAfter(0);
  EXPECT_EQ(SendStatus(q, Fifo("m", "A", "d1")).code(), ErrorCode::kThrottling);
  EXPECT_EQ(q->deduplication().size(), 0u);
  EXPECT_EQ(engine_.message_count(), 0u);
  engine_.ThrottleNewDataAfter(-1);
  SendOne(q, Fifo("m", "A", "d1"));
  EXPECT_EQ(Bodies(Receive(q)), std::vector<std::string>{"m"});
}

TEST_F(FifoQueueTest, DuplicateIsAcceptedAsNewAfterFiveMinutes) {
  QueuePtr q = CreateFifo("window.fifo");
  SentMessage first = SendOne(q, Fifo("m", "A", "d1"));
  clock_.Advance(kDeduplicationIntervalMs - 1);
  EXPECT_EQ(SendOne(q, Fifo("m", "A", "d1")).message_id, first.message_id);
  clock_.Advance(1);
  service_.SweepExpired();
  EXPECT_EQ(q->deduplication().size(), 0u);
  SentMessage again = SendOne(q, Fifo("m", "A", "d1"));
  EXPECT_NE(again.message_id, first.message_id);
  EXPECT_GT(again.sequence_number, first.sequence_number);
  EXPECT_EQ(Receive(q).size(), 2u);
}

TEST_F(FifoQueueTest, ExpiredButUnsweptEntryIsNotADuplicate) {
  // The sweep runs periodically; a send between expiry and sweep must still be accepted.
  QueuePtr q = CreateFifo("unswept.fifo");
  SentMessage first = SendOne(q, Fifo("m", "A", "d1"));
  clock_.Advance(kDeduplicationIntervalMs);
  EXPECT_NE(SendOne(q, Fifo("m", "A", "d1")).message_id, first.message_id);
}

TEST_F(FifoQueueTest, ContentBasedDeduplicationUsesTheBody) {
  QueuePtr q = CreateFifo("content.fifo", {{"ContentBasedDeduplication", "true"}});
  NewMessage m;
  m.body = "hello";
  m.message_group_id = "A";
  SentMessage first = SendOne(q, m);
  EXPECT_EQ(SendOne(q, m).message_id, first.message_id);
  // Attributes are not part of the content hash.
  NewMessage with_attribute = m;
  with_attribute.attributes["k"] = {"String", "v", ""};
  EXPECT_EQ(SendOne(q, with_attribute).message_id, first.message_id);
  // The group is not part of it either (DeduplicationScope=queue).
  NewMessage other_group = m;
  other_group.message_group_id = "B";
  EXPECT_EQ(SendOne(q, other_group).message_id, first.message_id);
  // Another body, or an explicit id, is a new message.
  NewMessage other_body = m;
  other_body.body = "hello!";
  EXPECT_NE(SendOne(q, other_body).message_id, first.message_id);
  NewMessage explicit_id = m;
  explicit_id.message_deduplication_id = "explicit";
  EXPECT_NE(SendOne(q, explicit_id).message_id, first.message_id);
  auto got = Receive(q);
  ASSERT_EQ(got.size(), 3u);
  // The deduplication id of a content-deduplicated message is the body's SHA-256.
  EXPECT_EQ(got[0].message->message_deduplication_id,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  EXPECT_EQ(got[2].message->message_deduplication_id, "explicit");
}

TEST_F(FifoQueueTest, QueueScopeDeduplicatesAcrossGroups) {
  QueuePtr q = CreateFifo("qscope.fifo");
  SentMessage a = SendOne(q, Fifo("m", "A", "d1"));
  EXPECT_EQ(SendOne(q, Fifo("m", "B", "d1")).message_id, a.message_id);
  EXPECT_EQ(Receive(q).size(), 1u);
}

TEST_F(FifoQueueTest, MessageGroupScopeDeduplicatesWithinGroupOnly) {
  QueuePtr q = CreateFifo("gscope.fifo", {{"DeduplicationScope", "messageGroup"},
                                          {"FifoThroughputLimit", "perMessageGroupId"}});
  SentMessage a = SendOne(q, Fifo("m", "A", "d1"));
  SentMessage b = SendOne(q, Fifo("m", "B", "d1"));
  EXPECT_NE(b.message_id, a.message_id);
  EXPECT_EQ(SendOne(q, Fifo("m", "A", "d1")).message_id, a.message_id);
  EXPECT_EQ(SendOne(q, Fifo("m", "B", "d1")).message_id, b.message_id);
  auto got = Receive(q);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].message->message_group_id, "A");
  EXPECT_EQ(got[1].message->message_group_id, "B");
}

TEST_F(FifoQueueTest, DuplicatesInsideOneBatch) {
  QueuePtr q = CreateFifo("batch.fifo");
  auto r = Send(q, {Fifo("one", "A", "d1"), Fifo("one again", "A", "d1"), Fifo("two", "A", "d2")});
  ASSERT_EQ(r.size(), 3u);
  for (const auto& entry : r) ASSERT_TRUE(entry.ok()) << entry.status().ToString();
  EXPECT_EQ(r[1]->message_id, r[0]->message_id);
  EXPECT_EQ(r[1]->sequence_number, r[0]->sequence_number);
  EXPECT_NE(r[2]->message_id, r[0]->message_id);
  EXPECT_GT(r[2]->sequence_number, r[0]->sequence_number);
  EXPECT_EQ(Bodies(Receive(q)), (std::vector<std::string>{"one", "two"}));
}

TEST_F(FifoQueueTest, DeduplicationWindowSurvivesRestart) {
  QueuePtr q = CreateFifo("durable.fifo");
  SentMessage first = SendOne(q, Fifo("m", "A", "d1"));
  QueueService restarted(engine_, clock_);
  QueuePtr q2 = ConsumeRestartAndSendAgain(restarted, q, first);
  ASSERT_TRUE(q2);
  // The restored entry keeps its original expiry, not one counted from the restart.
  clock_.Advance(kDeduplicationIntervalMs - 10'000);
  restarted.SweepExpired();
  EXPECT_NE(SendOne(restarted, q2, Fifo("m", "A", "d1")).message_id, first.message_id);
}

TEST_F(FifoQueueTest, PurgeEndsTheDeduplicationIntervalAlsoAfterRestart) {
  QueuePtr q = CreateFifo("purged.fifo");
  SentMessage first = SendOne(q, Fifo("m", "A", "d1"));
  Status purged(ErrorCode::kInternal, "not called");
  service_.Purge(q, [&](Status s) { purged = s; });
  ASSERT_TRUE(purged.ok()) << purged.ToString();
  SentMessage again = SendOne(q, Fifo("m", "A", "d1"));
  EXPECT_NE(again.message_id, first.message_id);
  EXPECT_EQ(Bodies(Receive(q)), std::vector<std::string>{"m"});

  QueueService restarted(engine_, clock_);  // only the second send's entry is stored
  ASSERT_TRUE(restarted.Load().ok());
  auto q2 = restarted.GetQueue(q->id());
  ASSERT_TRUE(q2.ok());
  EXPECT_EQ(SendOne(restarted, *q2, Fifo("m", "A", "d1")).message_id, again.message_id);
}

TEST_F(FifoQueueTest, MessageGroupScopeWindowSurvivesRestart) {
  QueuePtr q = CreateFifo("gdurable.fifo", {{"DeduplicationScope", "messageGroup"}});
  SentMessage a = SendOne(q, Fifo("m", "A", "d1"));
  clock_.AdvanceSeconds(1);
  QueueService restarted(engine_, clock_);
  ASSERT_TRUE(restarted.Load().ok());
  auto q2 = restarted.GetQueue(q->id());
  ASSERT_TRUE(q2.ok());
  EXPECT_EQ(SendOne(restarted, *q2, Fifo("m", "A", "d1")).message_id, a.message_id);
  EXPECT_NE(SendOne(restarted, *q2, Fifo("m", "B", "d1")).message_id, a.message_id);
}

// The records kept by the deduplication window of `q`, by record key.
std::map<std::string, std::string> DeduplicationRecords(storage::Engine& engine,
                                                        const QueuePtr& q) {
  std::map<std::string, std::string> records;
  EXPECT_TRUE(engine
                  .LoadRecords(storage::RecordKind::kDeduplication,
                               [&](uint64_t queue_id, std::string_view key, std::string_view blob) {
                                 if (queue_id == q->storage_id()) records.emplace(key, blob);
                               })
                  .ok());
  return records;
}

TEST_F(FifoQueueTest, DeduplicationRecordsAreKeyedByAFixedSizeHash) {
  QueuePtr q = CreateFifo("hashed.fifo", {{"DeduplicationScope", "messageGroup"}});
  SendOne(q, Fifo("m", "A", std::string(128, 'd')));
  auto records = DeduplicationRecords(engine_, q);
  ASSERT_EQ(records.size(), 1u);
  const auto& [key, blob] = *records.begin();
  EXPECT_EQ(key, DeduplicationRecordKey(HashDeduplicationKey("A\n" + std::string(128, 'd'))));
  EXPECT_EQ(key.size(), 17u);
  EXPECT_EQ(blob.size(), 33u);
}

// A server upgraded within five minutes of its last FIFO sends: their records, written with
// the key text and the ids as text, still deduplicate, and are stored again in the new form.
TEST_F(FifoQueueTest, RecordsWrittenBeforeHashingStillDeduplicateAndAreRewritten) {
  QueuePtr q = CreateFifo("legacy.fifo");
  SentMessage first = SendOne(q, Fifo("m", "A", "d1"));
  // Replace the stored record by what the previous version wrote for the same send.
  const int64_t expires = clock_.NowMillis() + kDeduplicationIntervalMs;
  std::string legacy(1, '\1');
  legacy.append(reinterpret_cast<const char*>(&expires), 8);
  for (const std::string& text : {first.message_id, first.sequence_number}) {
    legacy.push_back(char(text.size()));
    legacy += text;
  }
  storage::WriteBatch batch;
  for (const auto& [key, blob] : DeduplicationRecords(engine_, q)) {
    batch.DeleteRecord(storage::RecordKind::kDeduplication, q->storage_id(), key);
  }
  batch.PutRecord(storage::RecordKind::kDeduplication, q->storage_id(), "d1", legacy);
  Status written(ErrorCode::kInternal, "not called");
  engine_.Commit(std::move(batch), storage::Durability::kSync, [&](Status s) { written = s; });
  ASSERT_TRUE(written.ok()) << written.ToString();
  QueueService restarted(engine_, clock_);
  QueuePtr q2 = ConsumeRestartAndSendAgain(restarted, q, first);
  ASSERT_TRUE(q2);
  auto records = DeduplicationRecords(engine_, q);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records.begin()->first, DeduplicationRecordKey(HashDeduplicationKey("d1")));
  auto rewritten = DeduplicationEntry::Decode(records.begin()->second);
  ASSERT_TRUE(rewritten);
  EXPECT_EQ(records.begin()->second.size(), 33u);
  EXPECT_EQ(FormatUuid(rewritten->message_id), first.message_id);
  EXPECT_EQ(SequenceNumber(rewritten->seq), first.sequence_number);
  EXPECT_EQ(rewritten->expires_ms, expires);
  // The sweep deletes the rewritten record when the original interval ends.
  clock_.Advance(kDeduplicationIntervalMs - 10'000);
  restarted.SweepExpired();
  EXPECT_TRUE(DeduplicationRecords(engine_, q).empty());
}

// Start-up restores entries in record-key order; the first sweep after it still removes
// exactly the expired ones, claims made in between included.
TEST(DeduplicationWindowTest, RestoredEntriesExpireInTimeOrder) {
  DeduplicationWindow window;
  auto key = [](int i) { return HashDeduplicationKey("k" + std::to_string(i)); };
  for (int64_t expires : {300, 100, 500, 200, 400}) {
    window.Restore(key(int(expires)), DeduplicationEntry{{}, uint64_t(expires), expires}, 0);
  }
  window.Restore(key(100), DeduplicationEntry{{}, 1, 50}, 0);  // an earlier interval loses
  EXPECT_FALSE(window.Claim(key(600), DeduplicationEntry{{}, 600, 600}, 0));
  EXPECT_TRUE(window.Claim(key(500), DeduplicationEntry{{}, 9, 900}, 0));  // still held
  auto swept = window.SweepExpired(250);
  EXPECT_EQ(swept, (std::vector<DeduplicationHash>{key(100), key(200)}));
  EXPECT_EQ(window.size(), 4u);
  EXPECT_EQ(window.SweepExpired(1000).size(), 4u);
  EXPECT_EQ(window.size(), 0u);
}

TEST(DeduplicationEntryTest, BothRecordVersionsDecode) {
  DeduplicationEntry entry{*ParseUuid("0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f0"), 42, 1234};
  EXPECT_EQ(DeduplicationEntry::Decode(entry.Encode()), entry);
  std::string legacy(1, '\1');
  const int64_t expires = 1234;
  legacy.append(reinterpret_cast<const char*>(&expires), 8);
  for (const std::string text : {"0F1E2D3C-4B5A-4978-8695-A4B3C2D1E0F0", "10000000000000000042"}) {
    legacy.push_back(char(text.size()));
    legacy += text;
  }
  EXPECT_EQ(DeduplicationEntry::Decode(legacy), entry);
  // Sequence numbers older than the 10^19 + seq form were the zero-padded seq.
  std::string padded = legacy.substr(0, legacy.size() - 20) + "00000000000000000042";
  EXPECT_EQ(DeduplicationEntry::Decode(padded), entry);
  EXPECT_FALSE(DeduplicationEntry::Decode(legacy.substr(0, legacy.size() - 1)));
  EXPECT_FALSE(DeduplicationEntry::Decode(entry.Encode() + "x"));
  EXPECT_FALSE(DeduplicationEntry::Decode(""));
  EXPECT_TRUE(IsLegacyRecordKey("d1"));
  EXPECT_FALSE(IsLegacyRecordKey(DeduplicationRecordKey(HashDeduplicationKey("d1"))));
  EXPECT_EQ(HashOfRecordKey("d1"), HashDeduplicationKey("d1"));
  EXPECT_EQ(HashOfRecordKey(DeduplicationRecordKey(HashDeduplicationKey("d1"))),
            HashDeduplicationKey("d1"));
}

// --- SequenceNumber ---

TEST_F(FifoQueueTest, SequenceNumbersAreTwentyDigitsAndIncrease) {
  QueuePtr q = CreateFifo("seq.fifo");
  std::vector<std::string> numbers;
  std::map<std::string, std::string> by_id;
  for (int i = 0; i < 30; ++i) {
    SentMessage s = SendOne(q, "m" + std::to_string(i), "g" + std::to_string(i % 4));
    numbers.push_back(s.sequence_number);
    by_id[s.message_id] = s.sequence_number;
  }
  auto batch = Send(q, {Fifo("b1", "g0"), Fifo("b2", "g1")});
  for (const auto& r : batch) {
    ASSERT_TRUE(r.ok());
    numbers.push_back(r->sequence_number);
    by_id[r->message_id] = r->sequence_number;
  }
  for (size_t i = 0; i < numbers.size(); ++i) {
    EXPECT_TRUE(IsSequenceNumber(numbers[i])) << numbers[i];
    // Zero-padded, so string order is numeric order.
    if (i > 0) {
      EXPECT_LT(numbers[i - 1], numbers[i]);
    }
  }
  // Received messages carry the SequenceNumber their send answered.
  size_t seen = 0;
  for (auto got = Receive(q); !got.empty(); got = Receive(q)) {
    for (const auto& r : got) {
      EXPECT_EQ(r.message->sequence_number, by_id.at(r.message->message_id));
      Delete(q, r);
      ++seen;
    }
  }
  EXPECT_EQ(seen, numbers.size());
}

TEST_F(FifoQueueTest, SequenceNumbersKeepIncreasingAfterRestart) {
  QueuePtr q = CreateFifo("seqdurable.fifo");
  SentMessage before = SendOne(q, "before", "A");
  clock_.AdvanceSeconds(1);
  QueueService restarted(engine_, clock_);
  ASSERT_TRUE(restarted.Load().ok());
  auto q2 = restarted.GetQueue(q->id());
  ASSERT_TRUE(q2.ok());
  SentMessage after = SendOne(restarted, *q2, Fifo("after", "A"));
  EXPECT_TRUE(IsSequenceNumber(after.sequence_number));
  EXPECT_GT(after.sequence_number, before.sequence_number);
  auto got = Receive(restarted, *q2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].message->sequence_number, before.sequence_number);  // rebuilt by Load
  EXPECT_EQ(got[1].message->sequence_number, after.sequence_number);
}

TEST_F(FifoQueueTest, StandardQueueHasNoSequenceNumber) {
  QueuePtr q = Create("plain");
  NewMessage m;
  m.body = "x";
  EXPECT_TRUE(SendOne(q, m).sequence_number.empty());
  auto got = Receive(q);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].message->sequence_number.empty());
}

// --- ReceiveRequestAttemptId ---

TEST_F(FifoQueueTest, AttemptRetryReturnsSameMessagesAndResetsVisibility) {
  QueuePtr q = CreateFifo("attempt.fifo", {{"VisibilityTimeout", "30"}});
  SendOne(q, "a1", "A");
  SendOne(q, "a2", "A");
  SendOne(q, "b1", "B");
  auto first = Receive(q, 10, {}, "attempt-1");
  ASSERT_EQ(Bodies(first), (std::vector<std::string>{"a1", "a2", "b1"}));
  clock_.AdvanceSeconds(20);
  // The response was lost; the client retries with the same id.
  auto retry = Receive(q, 10, {}, "attempt-1");
  EXPECT_EQ(Bodies(retry), Bodies(first));
  EXPECT_EQ(Handles(retry), Handles(first));
  for (const auto& r : retry) EXPECT_EQ(r.message->state.receive_count, 1u);
  // The visibility timeout restarted at the retry: 40 s after the first receive (10 s after
  // the original deadline) nothing is visible yet.
  clock_.AdvanceSeconds(20);
  EXPECT_TRUE(Receive(q).empty());
  clock_.AdvanceSeconds(10);
  EXPECT_EQ(Receive(q).size(), 3u);
}

TEST_F(FifoQueueTest, AttemptRetryAfterDeleteFails) {
  QueuePtr q = CreateFifo("attempt2.fifo");
  SendOne(q, "a1", "A");
  SendOne(q, "a2", "A");
  auto first = Receive(q, 10, {}, "attempt-2");
  ASSERT_EQ(first.size(), 2u);
  Delete(q, first[0]);
  auto retry = service_.Receive(q, ReceiveOptions{10, {}, "attempt-2"});
  ASSERT_FALSE(retry.ok());
  EXPECT_EQ(retry.status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(retry.status().message(),
            "Value attempt-2 for parameter ReceiveRequestAttemptId is invalid. Reason: The "
            "receiveRequestAttemptId is not valid anymore since the receive call is not "
            "retryable.");
  // Another id is a fresh receive: a2 is still in flight, so nothing.
  EXPECT_TRUE(Receive(q, 10, {}, "attempt-3").empty());
}

TEST_F(FifoQueueTest, AttemptRetryAfterVisibilityChangeFails) {
  QueuePtr q = CreateFifo("attempt3.fifo");
  SendOne(q, "a1", "A");
  auto first = Receive(q, 10, {}, "attempt-4");
  ASSERT_EQ(first.size(), 1u);
  ASSERT_TRUE(ChangeVisibilityNow(service_, q, first[0].receipt_handle, 60).ok());
  auto retry = service_.Receive(q, ReceiveOptions{10, {}, "attempt-4"});
  EXPECT_EQ(retry.status().code(), ErrorCode::kInvalidParameterValue);
}

TEST_F(FifoQueueTest, AttemptIdIsForgottenAfterFiveMinutes) {
  QueuePtr q = CreateFifo("attempt4.fifo", {{"VisibilityTimeout", "30"}});
  SendOne(q, "a1", "A");
  auto first = Receive(q, 10, {}, "attempt-5");
  ASSERT_EQ(first.size(), 1u);
  clock_.Advance(kReceiveAttemptWindowMs);
  // No longer a retry: an ordinary receive of the (by now visible) message, with a new handle.
  auto later = Receive(q, 10, {}, "attempt-5");
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].message->state.receive_count, 2u);
  EXPECT_NE(later[0].receipt_handle, first[0].receipt_handle);
}

TEST_F(FifoQueueTest, MalformedAttemptIdIsRejected) {
  QueuePtr q = CreateFifo("attempt5.fifo");
  SendOne(q, "a1", "A");
  for (const std::string& bad : {std::string("has space"), std::string(129, 'a')}) {
    auto r = service_.Receive(q, ReceiveOptions{1, {}, bad});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidParameterValue) << bad;
  }
  // Exactly 128 alphanumeric or punctuation characters is fine.
  EXPECT_EQ(Receive(q, 1, {}, std::string(127, 'a') + "!").size(), 1u);
}

TEST_F(FifoQueueTest, AttemptIdIsIgnoredOnStandardQueue) {
  QueuePtr q = Create("plain-attempt");
  NewMessage one, two;
  one.body = "one";
  two.body = "two";
  Send(q, {one, two});
  // The same id twice is not a retry on a standard queue, and its format is not checked.
  auto first = Receive(q, 1, {}, "has space");
  auto second = Receive(q, 1, {}, "has space");
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_NE(first[0].message->body, second[0].message->body);
}

// --- send validation ---

TEST_F(FifoQueueTest, SendWithoutGroupIdIsMissingParameter) {
  QueuePtr q = CreateFifo("nogroup.fifo");
  Status s = SendStatus(q, Fifo("m", "", "d1"));
  EXPECT_EQ(s.code(), ErrorCode::kMissingParameter);
  EXPECT_EQ(s.message(), "The request must contain the parameter MessageGroupId.");
  // With neither id, the group error comes first.
  NewMessage neither;
  neither.body = "m";
  EXPECT_EQ(SendStatus(q, neither).code(), ErrorCode::kMissingParameter);
}

TEST_F(FifoQueueTest, SendWithoutDeduplicationIdNeedsContentBasedDeduplication) {
  QueuePtr q = CreateFifo("nodedup.fifo");
  NewMessage m;
  m.body = "m";
  m.message_group_id = "A";
  Status s = SendStatus(q, m);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(s.message(),
            "The queue should either have ContentBasedDeduplication enabled or "
            "MessageDeduplicationId provided explicitly");
  ASSERT_TRUE(SetAttributes(q, {{"ContentBasedDeduplication", "true"}}).ok());
  EXPECT_TRUE(SendStatus(q, m).ok());
}

TEST_F(FifoQueueTest, SendRejectsMalformedGroupAndDeduplicationIds) {
  QueuePtr q = CreateFifo("badids.fifo");
  Status space = SendStatus(q, Fifo("m", "group 123", "d1"));
  EXPECT_EQ(space.code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(space.message(),
            "Value group 123 for parameter MessageGroupId is invalid. Reason: MessageGroupId can "
            "only include alphanumeric and punctuation characters. 1 to 128 in length.");
  EXPECT_EQ(SendStatus(q, Fifo("m", std::string(129, 'g'), "d1")).code(),
            ErrorCode::kInvalidParameterValue);
  Status long_dedup = SendStatus(q, Fifo("m", "A", std::string(129, 'd')));
  EXPECT_EQ(long_dedup.code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(long_dedup.message(),
            "Value " + std::string(129, 'd') +
                " for parameter MessageDeduplicationId is invalid. Reason: MessageDeduplicationId "
                "can only include alphanumeric and punctuation characters. 1 to 128 in length.");
  EXPECT_TRUE(SendStatus(q, Fifo("m", std::string(128, 'g'), std::string(128, 'd'))).ok());
}

TEST_F(FifoQueueTest, PerMessageDelayIsRefusedExceptZero) {
  QueuePtr q = CreateFifo("delay.fifo");
  NewMessage delayed = Fifo("m", "A", "d1");
  delayed.delay_seconds = 5;
  Status s = SendStatus(q, delayed);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(s.message(),
            "Value 5 for parameter DelaySeconds is invalid. Reason: The request include parameter "
            "that is not valid for this queue type.");
  NewMessage zero = Fifo("m", "A", "d2");
  zero.delay_seconds = 0;
  EXPECT_TRUE(SendStatus(q, zero).ok());
  EXPECT_EQ(Receive(q).size(), 1u);
}

TEST_F(FifoQueueTest, PerMessageDelayZeroKeepsQueueDelay) {
  // AWS: DelaySeconds=0 on a FIFO message is accepted and the queue's DelaySeconds applies
  // (LocalStack AWS snapshot test_fifo_queue_send_message_with_zero_delay_defaults_to_queue_delay).
  QueuePtr q = CreateFifo("zerodelay.fifo", {{"DelaySeconds", "10"}});
  NewMessage zero = Fifo("m", "A", "d1");
  zero.delay_seconds = 0;
  ASSERT_TRUE(SendStatus(q, zero).ok());
  EXPECT_TRUE(Receive(q).empty());
  EXPECT_EQ(Attribute(q, "ApproximateNumberOfMessagesDelayed"), "1");
  clock_.AdvanceSeconds(10);
  EXPECT_EQ(Receive(q).size(), 1u);
}

TEST_F(FifoQueueTest, DeduplicationIdOnStandardQueueIsRefused) {
  QueuePtr q = Create("plain-dedup");
  NewMessage m;
  m.body = "m";
  m.message_deduplication_id = "d1";
  Status s = SendStatus(q, m);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(s.message(),
            "Value d1 for parameter MessageDeduplicationId is invalid. Reason: The request "
            "includes a parameter that is not valid for this queue type.");
}

TEST_F(FifoQueueTest, GroupIdOnStandardQueueIsAcceptedWithoutOrdering) {
  // Fair queues: a standard queue accepts MessageGroupId and returns it.
  QueuePtr q = Create("fair");
  NewMessage m;
  m.body = "m";
  m.message_group_id = "tenant-1";
  SentMessage sent = SendOne(q, m);
  EXPECT_TRUE(sent.sequence_number.empty());
  NewMessage m2 = m;
  m2.body = "m2";
  SendOne(q, m2);
  // No group blocking on a standard queue: both come out while neither is deleted.
  auto got = Receive(q);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].message->message_group_id, "tenant-1");
  // The group id is still validated.
  m.message_group_id = "bad group";
  EXPECT_EQ(SendStatus(q, m).code(), ErrorCode::kInvalidParameterValue);
}

TEST_F(FifoQueueTest, CheckFifoBatchFailsWholeRequest) {
  QueueConfig fifo;
  fifo.fifo_queue = true;
  std::vector<NewMessage> missing_group = {Fifo("a", "A", "d1"), Fifo("b", "", "d2")};
  Status s = CheckFifoBatch(fifo, missing_group);
  // Unlike SendMessage, the batch answers InvalidParameterValue for a missing group.
  EXPECT_EQ(s.code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(s.message(), "The request must contain the parameter MessageGroupId.");

  NewMessage no_dedup;
  no_dedup.body = "b";
  no_dedup.message_group_id = "A";
  std::vector<NewMessage> missing_dedup = {Fifo("a", "A", "d1"), no_dedup};
  s = CheckFifoBatch(fifo, missing_dedup);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(s.message(),
            "The queue should either have ContentBasedDeduplication enabled or "
            "MessageDeduplicationId provided explicitly");

  // Both problems: the group error wins, whatever the entry order.
  NewMessage neither;
  neither.body = "c";
  EXPECT_EQ(CheckFifoBatch(fifo, {no_dedup, neither}).message(),
            "The request must contain the parameter MessageGroupId.");

  fifo.content_based_deduplication = true;
  EXPECT_TRUE(CheckFifoBatch(fifo, missing_dedup).ok());
  EXPECT_EQ(CheckFifoBatch(fifo, missing_group).code(), ErrorCode::kInvalidParameterValue);
  EXPECT_TRUE(CheckFifoBatch(QueueConfig{}, {neither}).ok());  // standard: per-entry rules only
}

// --- creation rules ---

TEST_F(FifoQueueTest, FifoNameRequiresFifoQueueAttribute) {
  for (const AttributeMap& attributes : {AttributeMap{}, AttributeMap{{"FifoQueue", "false"}}}) {
    Status s = CreateStatus("named.fifo", attributes);
    EXPECT_EQ(s.code(), ErrorCode::kInvalidParameterValue);
    EXPECT_EQ(s.message(),
              "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in "
              "length");
  }
}

TEST_F(FifoQueueTest, FifoQueueAttributeRequiresFifoSuffix) {
  Status s = CreateStatus("unnamed", {{"FifoQueue", "true"}});
  EXPECT_EQ(s.code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(s.message(),
            "The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
            "underscores, must end with .fifo suffix and be 1 to 80 in length.");
  // ".fifo" counts towards the 80 characters.
  EXPECT_TRUE(CreateStatus(std::string(75, 'n') + ".fifo", {{"FifoQueue", "true"}}).ok());
  EXPECT_EQ(CreateStatus(std::string(76, 'n') + ".fifo", {{"FifoQueue", "true"}}).code(),
            ErrorCode::kInvalidParameterValue);
}

TEST_F(FifoQueueTest, FifoQueueAttributeIsCaseInsensitive) {
  // AWS accepts "True" (LocalStack's AWS-validated test creates {"FifoQueue": "True"}).
  Status s = CreateStatus("capital.fifo", {{"FifoQueue", "True"}});
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto q = service_.GetQueue({kRegion, kAccount, "capital.fifo"});
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE((*q)->fifo());
}

TEST_F(FifoQueueTest, FifoQueueFalseOnStandardQueueIsUnknownAttribute) {
  // AWS: CreateQueue of a standard name with FifoQueue=false answers InvalidAttributeName
  // "Unknown Attribute FifoQueue." (LocalStack AWS snapshot
  // test_create_standard_queue_with_fifo_attribute_raises_error).
  Status s = CreateStatus("standard-false", {{"FifoQueue", "false"}});
  EXPECT_EQ(s.code(), ErrorCode::kInvalidAttributeName);
  EXPECT_EQ(s.message(), "Unknown Attribute FifoQueue.");
}

TEST_F(FifoQueueTest, PerMessageGroupThroughputNeedsMessageGroupScope) {
  Status s = CreateStatus("ht.fifo", {{"FifoQueue", "true"},
                                      {"DeduplicationScope", "queue"},
                                      {"FifoThroughputLimit", "perMessageGroupId"}});
  EXPECT_EQ(s.code(), ErrorCode::kInvalidAttributeValue);
  EXPECT_EQ(s.message(),
            "Invalid value for the parameter FifoThroughputLimit. Reason: To set "
            "FifoThroughputLimit to perMessageGroupId, the DeduplicationScope must be "
            "messageGroup.");
  EXPECT_TRUE(CreateStatus("ht.fifo", {{"FifoQueue", "true"},
                                       {"DeduplicationScope", "messageGroup"},
                                       {"FifoThroughputLimit", "perMessageGroupId"}})
                  .ok());
  // The opposite combination is allowed.
  EXPECT_TRUE(CreateStatus("ht2.fifo", {{"FifoQueue", "true"},
                                        {"DeduplicationScope", "messageGroup"},
                                        {"FifoThroughputLimit", "perQueue"}})
                  .ok());
  // Switching an existing high-throughput queue back to queue scope is refused too.
  auto q = service_.GetQueue({kRegion, kAccount, "ht.fifo"});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(SetAttributes(*q, {{"DeduplicationScope", "queue"}}).code(),
            ErrorCode::kInvalidAttributeValue);
}

TEST_F(FifoQueueTest, FifoOnlyAttributesAreRefusedOnStandardQueue) {
  Status scope = CreateStatus("std", {{"DeduplicationScope", "queue"}});
  EXPECT_EQ(scope.code(), ErrorCode::kInvalidAttributeName);
  EXPECT_EQ(scope.message(),
            "You can specify the DeduplicationScope only when FifoQueue is set to true.");
  Status limit = CreateStatus("std", {{"FifoThroughputLimit", "perQueue"}});
  EXPECT_EQ(limit.code(), ErrorCode::kInvalidAttributeName);
  EXPECT_EQ(limit.message(),
            "You can specify the FifoThroughputLimit only when FifoQueue is set to true.");
  Status content = CreateStatus("std", {{"ContentBasedDeduplication", "false"}});
  EXPECT_EQ(content.code(), ErrorCode::kInvalidAttributeName);
  EXPECT_EQ(content.message(), "Unknown Attribute ContentBasedDeduplication.");
  QueuePtr q = Create("std");
  EXPECT_EQ(SetAttributes(q, {{"DeduplicationScope", "messageGroup"}}).code(),
            ErrorCode::kInvalidAttributeName);
}

TEST_F(FifoQueueTest, QueueTypeCannotChange) {
  QueuePtr fifo = CreateFifo("type.fifo");
  Status s = SetAttributes(fifo, {{"FifoQueue", "false"}});
  EXPECT_EQ(s.code(), ErrorCode::kInvalidAttributeValue);
  EXPECT_EQ(s.message(),
            "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not "
            "supported.");
  EXPECT_TRUE(SetAttributes(fifo, {{"FifoQueue", "true"}}).ok());  // a no-op
  EXPECT_TRUE(fifo->fifo());
  QueuePtr plain = Create("type");
  Status t = SetAttributes(plain, {{"FifoQueue", "true"}});
  EXPECT_EQ(t.code(), ErrorCode::kInvalidAttributeName);
  EXPECT_EQ(t.message(), "Unknown Attribute FifoQueue.");
  EXPECT_FALSE(plain->fifo());
}

TEST_F(FifoQueueTest, FifoAttributesHaveAwsDefaultsAndCanChange) {
  QueuePtr q = CreateFifo("defaults.fifo");
  EXPECT_EQ(Attribute(q, "FifoQueue"), "true");
  EXPECT_EQ(Attribute(q, "ContentBasedDeduplication"), "false");
  EXPECT_EQ(Attribute(q, "DeduplicationScope"), "queue");
  EXPECT_EQ(Attribute(q, "FifoThroughputLimit"), "perQueue");
  ASSERT_TRUE(SetAttributes(q, {{"DeduplicationScope", "messageGroup"},
                                {"FifoThroughputLimit", "perMessageGroupId"}})
                  .ok());
  EXPECT_EQ(Attribute(q, "FifoThroughputLimit"), "perMessageGroupId");
  // Creating again with different FIFO attributes names the one that differs.
  Status s =
      CreateStatus("defaults.fifo", {{"FifoQueue", "true"}, {"ContentBasedDeduplication", "true"}});
  EXPECT_EQ(s.code(), ErrorCode::kQueueAlreadyExists);
  EXPECT_EQ(s.message(),
            "A queue already exists with the same name and a different value for attribute "
            "ContentBasedDeduplication");
}

// --- RedrivePolicy and RedriveAllowPolicy ---

TEST_F(FifoQueueTest, RedriveTargetMustExist) {
  const std::string policy = Redrive("missing.fifo", 3);
  Status s = CreateStatus("src.fifo", {{"FifoQueue", "true"}, {"RedrivePolicy", policy}});
  EXPECT_EQ(s.code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(s.message(), "Value " + policy +
                             " for parameter RedrivePolicy is invalid. Reason: Dead letter target "
                             "does not exist.");
  QueuePtr q = CreateFifo("src.fifo");
  EXPECT_EQ(SetAttributes(q, {{"RedrivePolicy", policy}}).code(),
            ErrorCode::kInvalidParameterValue);
}

TEST_F(FifoQueueTest, RedriveTargetMustBeSameType) {
  Create("std-dlq");
  CreateFifo("fifo-dlq.fifo");
  const std::string to_standard = Redrive("std-dlq", 3);
  Status s = CreateStatus("src.fifo", {{"FifoQueue", "true"}, {"RedrivePolicy", to_standard}});
  EXPECT_EQ(s.code(), ErrorCode::kInvalidParameterValue);
  // Two periods: AWS's text.
  EXPECT_EQ(s.message(), "Value " + to_standard +
                             " for parameter RedrivePolicy is invalid. Reason: Dead-letter queue "
                             "must be same type of queue as the source..");
  EXPECT_EQ(CreateStatus("src", {{"RedrivePolicy", Redrive("fifo-dlq.fifo", 3)}}).code(),
            ErrorCode::kInvalidParameterValue);
  EXPECT_TRUE(CreateStatus("src.fifo",
                           {{"FifoQueue", "true"}, {"RedrivePolicy", Redrive("fifo-dlq.fifo", 3)}})
                  .ok());
}

TEST_F(FifoQueueTest, RedriveAllowPolicyIsEnforced) {
  CreateFifo("deny.fifo", {{"RedriveAllowPolicy", R"({"redrivePermission":"denyAll"})"}});
  CreateFifo("byqueue.fifo",
             {{"RedriveAllowPolicy", R"({"redrivePermission":"byQueue","sourceQueueArns":[")" +
                                         Arn("listed.fifo") + R"("]})"}});
  auto create = [&](const std::string& name, const std::string& dlq) {
    return CreateStatus(name, {{"FifoQueue", "true"}, {"RedrivePolicy", Redrive(dlq, 2)}});
  };
  Status denied = create("listed.fifo", "deny.fifo");
  EXPECT_EQ(denied.code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(denied.message().rfind("Value " + Redrive("deny.fifo", 2) +
                                       " for parameter RedrivePolicy is invalid. Reason: ",
                                   0),
            0u)
      << denied.message();
  EXPECT_TRUE(create("listed.fifo", "byqueue.fifo").ok());
  EXPECT_EQ(create("unlisted.fifo", "byqueue.fifo").code(), ErrorCode::kInvalidParameterValue);
  // SetAttributes applies the same check.
  QueuePtr unlisted = CreateFifo("unlisted.fifo");
  EXPECT_EQ(SetAttributes(unlisted, {{"RedrivePolicy", Redrive("byqueue.fifo", 2)}}).code(),
            ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(SetAttributes(unlisted, {{"RedrivePolicy", Redrive("deny.fifo", 2)}}).code(),
            ErrorCode::kInvalidParameterValue);
}

TEST_F(FifoQueueTest, RedriveMovesFifoMessageKeepingGroupAndNextFlows) {
  QueuePtr dlq = CreateFifo("dead.fifo");
  QueuePtr q = CreateFifo(
      "poison.fifo", {{"RedrivePolicy", Redrive("dead.fifo", 1)}, {"VisibilityTimeout", "30"}});
  SentMessage poison = SendOne(q, "a1", "A");
  SendOne(q, "a2", "A");
  ASSERT_EQ(Bodies(Receive(q, 1)), std::vector<std::string>{"a1"});
  clock_.AdvanceSeconds(30);
  // a1 reached maxReceiveCount: the next receive moves it instead of delivering it, and a2 is
  // no longer blocked behind it (it may come in that receive or the next).
  auto first_try = TryReceive(q, 1);
  ASSERT_TRUE(first_try.has_value());
  auto next = first_try->empty() ? Receive(q, 1) : *first_try;
  ASSERT_EQ(Bodies(next), std::vector<std::string>{"a2"});
  EXPECT_EQ(next[0].message->state.receive_count, 1u);

  auto dead = Receive(dlq);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].message->body, "a1");
  EXPECT_EQ(dead[0].message->message_id, poison.message_id);
  EXPECT_EQ(dead[0].message->message_group_id, "A");
  EXPECT_EQ(dead[0].message->dead_letter_source_arn, Arn("poison.fifo"));
  EXPECT_TRUE(IsSequenceNumber(dead[0].message->sequence_number));
  // The count goes on from the source's, as on AWS.
  EXPECT_EQ(dead[0].message->state.receive_count, 2u);
  EXPECT_EQ(Counters(q), (std::vector<std::string>{"0", "1", "0"}));
}

TEST_F(FifoQueueTest, RedriveKeepsGroupOrderInDeadLetterQueue) {
  QueuePtr dlq = CreateFifo("dead2.fifo");
  QueuePtr q = CreateFifo(
      "poison2.fifo", {{"RedrivePolicy", Redrive("dead2.fifo", 1)}, {"VisibilityTimeout", "30"}});
  for (const char* body : {"a1", "a2", "a3"}) SendOne(q, body, "A");
  ASSERT_EQ(Receive(q).size(), 3u);
  clock_.AdvanceSeconds(30);
  auto moving = TryReceive(q);
  ASSERT_TRUE(moving.has_value());
  EXPECT_TRUE(moving->empty());  // all three move
  EXPECT_EQ(Bodies(Receive(dlq)), (std::vector<std::string>{"a1", "a2", "a3"}));
}

TEST_F(FifoQueueTest, ExpiredMessageMetByReceiveLetsItsGroupContinue) {
  // Retention removes a1 when a receive comes to it; a2, sent later, is still within retention
  // and must be delivered, and the group must stay usable.
  QueuePtr q = CreateFifo("retention.fifo", {{"MessageRetentionPeriod", "60"}});
  SendOne(q, "a1", "A");
  clock_.AdvanceSeconds(30);
  SendOne(q, "a2", "A");
  clock_.AdvanceSeconds(30);
  auto got = TryReceive(q);
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(Bodies(*got), std::vector<std::string>{"a2"});
  Delete(q, (*got)[0]);
  SendOne(q, "a3", "A");
  EXPECT_EQ(Bodies(Receive(q)), std::vector<std::string>{"a3"});
}

// --- counters ---

TEST_F(FifoQueueTest, CountersWithBlockedGroups) {
  QueuePtr q = CreateFifo("counters.fifo", {{"VisibilityTimeout", "30"}});
  for (const char* body : {"a1", "a2", "a3"}) SendOne(q, body, "A");
  SendOne(q, "b1", "B");
  EXPECT_EQ(Counters(q), (std::vector<std::string>{"4", "0", "0"}));
  ASSERT_EQ(Bodies(Receive(q, 1)), std::vector<std::string>{"a1"});
  // a2 and a3 wait behind a1 but are still counted as waiting messages, not as in flight.
  EXPECT_EQ(Counters(q), (std::vector<std::string>{"3", "1", "0"}));
  ASSERT_TRUE(SetAttributes(q, {{"DelaySeconds", "10"}}).ok());
  SendOne(q, "c1", "C");
  EXPECT_EQ(Counters(q), (std::vector<std::string>{"3", "1", "1"}));
  clock_.AdvanceSeconds(10);
  EXPECT_EQ(Counters(q), (std::vector<std::string>{"4", "1", "0"}));
  clock_.AdvanceSeconds(20);  // a1's visibility timeout ran out
  EXPECT_EQ(Counters(q), (std::vector<std::string>{"5", "0", "0"}));
}

}  // namespace
}  // namespace postbox::core
