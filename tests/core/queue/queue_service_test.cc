// Queue semantics with a ManualClock: time moves by Advance(), never by sleeping.
#include "core/queue/queue_service.h"

#include <gtest/gtest.h>

#include "core/queue/sync_calls.h"
#include "storage/memory_engine.h"

namespace postbox::core {
namespace {

class QueueServiceTest : public ::testing::Test {
 protected:
  QueueServiceTest() : service_(engine_, clock_) {}

  QueuePtr Create(const std::string& name, AttributeMap attributes = {}) {
    Result<QueuePtr> out = Status(ErrorCode::kInternal, "not called");
    service_.CreateQueue({"us-east-1", "000000000000", name}, std::move(attributes), {},
                         [&](Result<QueuePtr> r) { out = std::move(r); });
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? *out : nullptr;
  }
  Status CreateStatus(const std::string& name, AttributeMap attributes = {}) {
    Status out(ErrorCode::kInternal, "not called");
    service_.CreateQueue({"us-east-1", "000000000000", name}, std::move(attributes), {},
                         [&](Result<QueuePtr> r) { out = r.status(); });
    return out;
  }
  std::vector<Result<SentMessage>> Send(const QueuePtr& q, std::vector<NewMessage> messages) {
    std::vector<Result<SentMessage>> out;
    service_.SendMessages(q, std::move(messages), "AKID",
                          [&](std::vector<Result<SentMessage>> r) { out = std::move(r); });
    return out;
  }
  SentMessage SendOne(const QueuePtr& q, const std::string& body, std::optional<int> delay = {}) {
    NewMessage m;
    m.body = body;
    m.delay_seconds = delay;
    auto r = Send(q, {m});
    EXPECT_TRUE(r.at(0).ok()) << r.at(0).status().ToString();
    return *r.at(0);
  }
  std::vector<ReceivedMessage> Receive(const QueuePtr& q, int max = 10,
                                       std::optional<int> visibility = {}) {
    auto got = service_.Receive(q, ReceiveOptions{max, visibility, ""});
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? std::move(*got) : std::vector<ReceivedMessage>{};
  }
  Status SetAttributes(const QueuePtr& q, AttributeMap attributes) {
    Status out(ErrorCode::kInternal, "not called");
    service_.SetAttributes(q, attributes, [&](Status s) { out = s; });
    return out;
  }
  std::string Attribute(const QueuePtr& q, const std::string& name) {
    auto attributes = service_.GetAttributes(*q, {name});
    EXPECT_TRUE(attributes.ok());
    return (*attributes)[name];
  }

  ManualClock clock_;
  storage::MemoryEngine engine_;
  QueueService service_;
};

TEST_F(QueueServiceTest, SendReceiveDelete) {
  QueuePtr q = Create("orders");
  SentMessage sent = SendOne(q, "hello");
  EXPECT_EQ(sent.md5_of_body, "5d41402abc4b2a76b9719d911017c592");
  auto got = Receive(q);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].message->body, "hello");
  EXPECT_EQ(got[0].message->message_id, sent.message_id);
  EXPECT_EQ(got[0].message->state.receive_count, 1u);
  EXPECT_TRUE(Receive(q).empty());  // in flight
  EXPECT_TRUE(DeleteNow(service_, q, got[0].receipt_handle).ok());
  EXPECT_EQ(engine_.message_count(), 0u);
  // Deleting again with the same (now stale) handle succeeds, as on AWS.
  EXPECT_TRUE(DeleteNow(service_, q, got[0].receipt_handle).ok());
}

// A receive shares the message with the queue instead of copying it: what an earlier
// receiver holds must stay as it was when the queue changes the message again.
TEST_F(QueueServiceTest, ReceivedMessageIsASnapshot) {
  QueuePtr q = Create("orders");
  SendOne(q, "hello");
  auto first = Receive(q, 1, /*visibility=*/0);
  ASSERT_EQ(first.size(), 1u);
  auto second = Receive(q, 1, /*visibility=*/0);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(first[0].message->state.receive_count, 1u);
  EXPECT_EQ(second[0].message->state.receive_count, 2u);
  EXPECT_EQ(first[0].message->body, "hello");
  EXPECT_NE(first[0].receipt_handle, second[0].receipt_handle);
  // Dropped by every receiver, the message is changed in place from then on.
  first.clear();
  second.clear();
  auto third = Receive(q, 1, /*visibility=*/0);
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0].message->state.receive_count, 3u);
  EXPECT_TRUE(DeleteNow(service_, q, third[0].receipt_handle).ok());
  EXPECT_EQ(third[0].message->body, "hello");  // still readable after the queue let go
}

TEST_F(QueueServiceTest, VisibilityTimeoutReturnsMessage) {
  QueuePtr q = Create("vis", {{"VisibilityTimeout", "30"}});
  SendOne(q, "m");
  ASSERT_EQ(Receive(q).size(), 1u);
  clock_.AdvanceSeconds(29);
  EXPECT_TRUE(Receive(q).empty());
  EXPECT_EQ(Attribute(q, "ApproximateNumberOfMessagesNotVisible"), "1");
  clock_.AdvanceSeconds(1);
  auto again = Receive(q);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].message->state.receive_count, 2u);
}

TEST_F(QueueServiceTest, ReceiveVisibilityOverridesQueueDefault) {
  QueuePtr q = Create("vis2");
  SendOne(q, "m");
  ASSERT_EQ(Receive(q, 1, 5).size(), 1u);
  clock_.AdvanceSeconds(5);
  EXPECT_EQ(Receive(q).size(), 1u);
}

TEST_F(QueueServiceTest, ChangeVisibilityZeroMakesVisible) {
  QueuePtr q = Create("cv");
  SendOne(q, "m");
  auto got = Receive(q);
  ASSERT_TRUE(ChangeVisibilityNow(service_, q, got[0].receipt_handle, 0).ok());
  auto again = Receive(q);
  ASSERT_EQ(again.size(), 1u);
  // On a standard queue the first handle still changes the visibility of the message, now
  // in flight under a later receive: 0 makes it visible at once, as AWS does.
  ASSERT_TRUE(ChangeVisibilityNow(service_, q, got[0].receipt_handle, 0).ok());
  ASSERT_EQ(Receive(q).size(), 1u);
  EXPECT_EQ(ChangeVisibilityNow(service_, q, "garbage", 10).code(),
            ErrorCode::kReceiptHandleIsInvalid);
  EXPECT_EQ(ChangeVisibilityNow(service_, q, again[0].receipt_handle, 43201).code(),
            ErrorCode::kInvalidParameterValue);
  ASSERT_TRUE(DeleteNow(service_, q, got[0].receipt_handle).ok());
  EXPECT_EQ(ChangeVisibilityNow(service_, q, got[0].receipt_handle, 10).code(),
            ErrorCode::kInvalidParameterValue);
}

TEST_F(QueueServiceTest, ChangeVisibilityOfVisibleMessageSucceedsAndChangesNothing) {
  QueuePtr q = Create("cv2", {{"VisibilityTimeout", "1"}});
  SendOne(q, "m");
  auto got = Receive(q);
  clock_.AdvanceSeconds(2);
  EXPECT_TRUE(ChangeVisibilityNow(service_, q, got[0].receipt_handle, 10).ok());
  EXPECT_EQ(Receive(q).size(), 1u);  // still visible
}

TEST_F(QueueServiceTest, FifoHandlesExpireWithTheirVisibility) {
  QueuePtr q = Create(
      "fh.fifo",
      {{"FifoQueue", "true"}, {"ContentBasedDeduplication", "true"}, {"VisibilityTimeout", "1"}});
  NewMessage m;
  m.body = "m";
  m.message_group_id = "g";
  ASSERT_TRUE(Send(q, {m}).at(0).ok());
  auto first = Receive(q);
  ASSERT_EQ(first.size(), 1u);
  clock_.AdvanceSeconds(2);
  const std::string expired = "Value " + first[0].receipt_handle +
                              " for parameter ReceiptHandle is invalid. Reason: The receipt "
                              "handle has expired.";
  Status deleted = DeleteNow(service_, q, first[0].receipt_handle);
  EXPECT_EQ(deleted.code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(deleted.message(), expired);
  EXPECT_EQ(ChangeVisibilityNow(service_, q, first[0].receipt_handle, 10).code(),
            ErrorCode::kInvalidParameterValue);
  auto second = Receive(q);
  ASSERT_EQ(second.size(), 1u);
  // The earlier receive's handle stays expired; the current one works.
  EXPECT_EQ(DeleteNow(service_, q, first[0].receipt_handle).code(),
            ErrorCode::kInvalidParameterValue);
  EXPECT_TRUE(DeleteNow(service_, q, second[0].receipt_handle).ok());
}

TEST_F(QueueServiceTest, KmsKeyAndSqsManagedEncryptionExcludeEachOther) {
  QueuePtr q = Create("sse");
  EXPECT_EQ(SetAttributes(q, {{"KmsMasterKeyId", "k"}, {"SqsManagedSseEnabled", "true"}}).code(),
            ErrorCode::kInvalidAttributeName);
  ASSERT_TRUE(SetAttributes(q, {{"KmsMasterKeyId", "k"}}).ok());
  EXPECT_EQ(Attribute(q, "SqsManagedSseEnabled"), "false");
  EXPECT_EQ(Attribute(q, "KmsDataKeyReusePeriodSeconds"), "300");
  EXPECT_EQ(SetAttributes(q, {{"SqsManagedSseEnabled", "true"}}).code(),
            ErrorCode::kInvalidAttributeName);
  ASSERT_TRUE(SetAttributes(q, {{"KmsMasterKeyId", ""}, {"SqsManagedSseEnabled", "true"}}).ok());
  EXPECT_EQ(Attribute(q, "SqsManagedSseEnabled"), "true");
  // A record stored before the rule (a key and SQS-managed SSE both on) still loads.
  QueueConfig old;
  ASSERT_TRUE(old.Apply({{"KmsMasterKeyId", "k"}, {"SqsManagedSseEnabled", "true"}},
                        /*creating=*/true)
                  .ok());
  EXPECT_EQ(old.ToAttributes()["SqsManagedSseEnabled"], "false");
}

TEST_F(QueueServiceTest, DelayedMessagesAppearLater) {
  QueuePtr q = Create("delay", {{"DelaySeconds", "10"}});
  SendOne(q, "queue-delay");
  SendOne(q, "no-delay", 0);
  EXPECT_EQ(Attribute(q, "ApproximateNumberOfMessagesDelayed"), "1");
  auto now = Receive(q);
  ASSERT_EQ(now.size(), 1u);
  EXPECT_EQ(now[0].message->body, "no-delay");
  clock_.AdvanceSeconds(10);
  auto later = Receive(q);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].message->body, "queue-delay");
}

TEST_F(QueueServiceTest, RetentionRemovesExpiredMessages) {
  QueuePtr q = Create("ret", {{"MessageRetentionPeriod", "60"}});
  SendOne(q, "old");
  clock_.AdvanceSeconds(30);
  SendOne(q, "new");
  clock_.AdvanceSeconds(30);
  service_.SweepExpired();
  EXPECT_EQ(Attribute(q, "ApproximateNumberOfMessages"), "1");
  auto got = Receive(q);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].message->body, "new");
  EXPECT_EQ(engine_.message_count(), 1u);
}

TEST_F(QueueServiceTest, RedriveMovesToDeadLetterQueueKeepingIdentity) {
  QueuePtr dlq = Create("dlq");
  QueuePtr q = Create(
      "src",
      {{"RedrivePolicy",
        R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":2})"},
       {"VisibilityTimeout", "0"}});
  NewMessage m;
  m.body = "poison";
  m.attributes["k"] = {"String", "v", ""};
  std::string id = (*Send(q, {m}).at(0)).message_id;
  EXPECT_EQ(Receive(q).size(), 1u);
  EXPECT_EQ(Receive(q).size(), 1u);
  EXPECT_TRUE(Receive(q).empty());  // third receive moves it instead
  auto dead = Receive(dlq);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].message->message_id, id);
  EXPECT_EQ(dead[0].message->body, "poison");
  EXPECT_EQ(dead[0].message->attributes, m.attributes);
  auto sources = service_.ListDeadLetterSourceQueues(*dlq);
  ASSERT_EQ(sources.size(), 1u);
  EXPECT_EQ(sources[0].name, "src");
}

TEST_F(QueueServiceTest, PurgeOncePerMinute) {
  QueuePtr q = Create("purge");
  SendOne(q, "a");
  Status first(ErrorCode::kInternal, ""), second = first, third = first;
  service_.Purge(q, [&](Status s) { first = s; });
  service_.Purge(q, [&](Status s) { second = s; });
  EXPECT_TRUE(first.ok());
  EXPECT_EQ(second.code(), ErrorCode::kPurgeQueueInProgress);
  EXPECT_TRUE(Receive(q).empty());
  clock_.AdvanceSeconds(60);
  service_.Purge(q, [&](Status s) { third = s; });
  EXPECT_TRUE(third.ok());
}

TEST_F(QueueServiceTest, CreateIsIdempotentOnlyWithSameAttributes) {
  QueuePtr q = Create("same", {{"VisibilityTimeout", "40"}});
  EXPECT_EQ(Create("same", {{"VisibilityTimeout", "40"}}), q);
  EXPECT_EQ(Create("same"), q);
  EXPECT_EQ(CreateStatus("same", {{"VisibilityTimeout", "41"}}).code(),
            ErrorCode::kQueueAlreadyExists);
}

TEST_F(QueueServiceTest, CreateValidatesNamesAndAttributes) {
  EXPECT_EQ(CreateStatus("bad name").code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(CreateStatus(std::string(81, 'a')).code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(CreateStatus("q", {{"VisibilityTimeout", "43201"}}).code(),
            ErrorCode::kInvalidAttributeValue);
  EXPECT_EQ(CreateStatus("q", {{"Bogus", "1"}}).code(), ErrorCode::kInvalidAttributeName);
  EXPECT_EQ(CreateStatus("q", {{"ContentBasedDeduplication", "true"}}).code(),
            ErrorCode::kInvalidAttributeName);
}

TEST_F(QueueServiceTest, DeletedNameCannotBeReusedForAMinute) {
  QueuePtr q = Create("gone");
  Status deleted(ErrorCode::kInternal, "");
  service_.DeleteQueue(q, [&](Status s) { deleted = s; });
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(service_.GetQueue(q->id()).status().code(), ErrorCode::kQueueDoesNotExist);
  EXPECT_EQ(CreateStatus("gone").code(), ErrorCode::kQueueDeletedRecently);
  clock_.AdvanceSeconds(60);
  EXPECT_TRUE(CreateStatus("gone").ok());
}

TEST_F(QueueServiceTest, SendValidatesEachMessage) {
  QueuePtr q = Create("val", {{"MaximumMessageSize", "1024"}});
  NewMessage ok_message, too_big, bad_chars, empty;
  ok_message.body = "fine";
  too_big.body = std::string(1025, 'x');
  bad_chars.body = std::string("\0", 1);
  auto r = Send(q, {ok_message, too_big, bad_chars, empty});
  EXPECT_TRUE(r[0].ok());
  EXPECT_EQ(r[1].status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(r[2].status().code(), ErrorCode::kInvalidMessageContents);
  EXPECT_EQ(r[3].status().code(), ErrorCode::kMissingParameter);
}

TEST_F(QueueServiceTest, StorageFailureAcknowledgesNothing) {
  QueuePtr q = Create("fail");
  engine_.FailCommits(Status(ErrorCode::kStorageError, "disk full"));
  NewMessage m;
  m.body = "x";
  auto r = Send(q, {m});
  EXPECT_EQ(r[0].status().code(), ErrorCode::kStorageError);
  // Receiving changes memory before storing: refused while storage cannot write.
  EXPECT_EQ(service_.Receive(q, ReceiveOptions{10, {}, ""}).status().code(),
            ErrorCode::kStorageError);
  engine_.FailCommits(Status::Ok());
  EXPECT_TRUE(Receive(q).empty());  // the failed send was never stored
}

TEST_F(QueueServiceTest, LoadRebuildsQueuesAndMessages) {
  QueuePtr q = Create("durable", {{"VisibilityTimeout", "100"}});
  SendOne(q, "one");
  SendOne(q, "two");
  auto got = Receive(q, 1);
  ASSERT_EQ(got.size(), 1u);
  QueueService restarted(engine_, clock_);
  ASSERT_TRUE(restarted.Load().ok());
  auto q2 = restarted.GetQueue(q->id());
  ASSERT_TRUE(q2.ok());
  EXPECT_EQ((*q2)->config().visibility_timeout, 100);
  auto visible = *restarted.Receive(*q2, ReceiveOptions{10, {}, ""});
  ASSERT_EQ(visible.size(), 1u);  // the received one stays in flight across the restart
  EXPECT_EQ(visible[0].message->body, got[0].message->body == "one" ? "two" : "one");
  clock_.AdvanceSeconds(100);
  auto back = *restarted.Receive(*q2, ReceiveOptions{10, {}, ""});
  ASSERT_EQ(back.size(), 2u);  // both timed out; each now received twice
  EXPECT_EQ(back[0].message->state.receive_count, 2u);
  EXPECT_EQ(back[1].message->state.receive_count, 2u);
}

TEST_F(QueueServiceTest, WaitersWakeOnSend) {
  QueuePtr q = Create("wait");
  int woken = 0;
  q->AddWaiter([&] { ++woken; });
  SendOne(q, "m");
  EXPECT_EQ(woken, 1);
  SendOne(q, "n");
  EXPECT_EQ(woken, 1);  // a waiter is woken once
}

TEST_F(QueueServiceTest, EachNewMessageWakesOneWaiterOldestFirst) {
  QueuePtr q = Create("herd");
  std::vector<int> woken;
  for (int i = 0; i < 3; ++i) q->AddWaiter([&woken, i] { woken.push_back(i); });
  SendOne(q, "one");
  EXPECT_EQ(woken, (std::vector<int>{0}));
  NewMessage a, b;
  a.body = "a";
  b.body = "b";
  Send(q, {a, b});
  EXPECT_EQ(woken, (std::vector<int>{0, 1, 2}));
  q->AddWaiter([&woken] { woken.push_back(9); });
  q->WakeOne();  // a wake-up passed on by a poll that had already answered
  EXPECT_EQ(woken.back(), 9);
}

}  // namespace
}  // namespace postbox::core
