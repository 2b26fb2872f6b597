// Message move tasks (dead-letter queue redrive) with a ManualClock: the clock is advanced and
// then MessageMoveTasks::Advance() is called, as the server's timer would. Expected texts and
// codes follow AWS (see the FIFO research notes, section 5).
#include "core/queue/move_tasks.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "core/queue/sync_calls.h"
#include "storage/memory_engine.h"

namespace postbox::core {
namespace {

constexpr char kRegion[] = "us-east-1";
constexpr char kAccount[] = "000000000000";
constexpr char kNonExistentQueue[] = "AWS.SimpleQueueService.NonExistentQueue";

std::string Arn(const std::string& name) {
  return std::string("arn:aws:sqs:") + kRegion + ":" + kAccount + ":" + name;
}

std::vector<std::string> Bodies(const std::vector<ReceivedMessage>& received) {
  std::vector<std::string> out;
  for (const auto& r : received) out.push_back(r.message->body);
  return out;
}

class MoveTaskTest : public ::testing::Test {
 protected:
  MoveTaskTest() : service_(engine_, clock_), tasks_(service_, engine_, clock_) {}

  QueuePtr Create(const std::string& name, AttributeMap attributes = {}) {
    if (name.size() > 5 && name.compare(name.size() - 5, 5, ".fifo") == 0) {
      attributes["FifoQueue"] = "true";
    }
    Result<QueuePtr> out = Status(ErrorCode::kInternal, "not called");
    service_.CreateQueue({kRegion, kAccount, name}, std::move(attributes), {},
                         [&](Result<QueuePtr> r) { out = std::move(r); });
    EXPECT_TRUE(out.ok()) << name << ": " << out.status().ToString();
    return out.ok() ? *out : nullptr;
  }
  // A queue whose messages go to `dlq` on their second receive. VisibilityTimeout 0 lets a
  // test redrive without moving the clock.
  QueuePtr CreateSource(const std::string& name, const std::string& dlq) {
    return Create(name, {{"RedrivePolicy",
                          R"({"deadLetterTargetArn":")" + Arn(dlq) + R"(","maxReceiveCount":1})"},
                         {"VisibilityTimeout", "0"}});
  }
  SentMessage Send(const QueuePtr& q, const std::string& body, const std::string& group = "G") {
    NewMessage m;
    m.body = body;
    if (q->fifo()) {
      m.message_group_id = group;
      m.message_deduplication_id = body;
    }
    return Send(q, m);
  }
  SentMessage Send(const QueuePtr& q, NewMessage m) {
    std::vector<Result<SentMessage>> out;
    service_.SendMessages(q, {std::move(m)}, "AKID",
                          [&](std::vector<Result<SentMessage>> r) { out = std::move(r); });
    EXPECT_TRUE(out.at(0).ok()) << out.at(0).status().ToString();
    return out.at(0).ok() ? *out.at(0) : SentMessage{};
  }
  // Sends `bodies` to a queue made by CreateSource and receives until all of them were moved
  // to its dead-letter queue.
  void Redrive(const QueuePtr& source, const std::vector<std::string>& bodies) {
    for (const auto& body : bodies) Send(source, body);
    for (int i = 0; i < 100 && source->Counters().visible > 0; ++i) Receive(source);
    ASSERT_EQ(source->Counters().visible, 0);
    ASSERT_EQ(source->Counters().not_visible, 0);
  }
  std::vector<ReceivedMessage> Receive(QueueService& service, const QueuePtr& q, int max = 10,
                                       std::optional<int> visibility = {}) {
    auto got = service.Receive(q, ReceiveOptions{max, visibility, ""});
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? std::move(*got) : std::vector<ReceivedMessage>{};
  }
  std::vector<ReceivedMessage> Receive(const QueuePtr& q, int max = 10,
                                       std::optional<int> visibility = {}) {
    return Receive(service_, q, max, visibility);
  }
  // How many messages a queue holds, whatever their state.
  static int64_t Size(const QueuePtr& q) {
    QueueCounters c = q->Counters();
    return c.visible + c.not_visible + c.delayed;
  }

  Result<std::string> Start(MessageMoveTasks& tasks, const std::string& source,
                            const std::string& destination = "",
                            std::optional<int> rate = std::nullopt) {
    Result<std::string> out = Status(ErrorCode::kInternal, "not called");
    tasks.Start({source, destination, rate}, [&](Result<std::string> r) { out = std::move(r); });
    return out;
  }
  Result<std::string> Start(const std::string& source, const std::string& destination = "",
                            std::optional<int> rate = std::nullopt) {
    return Start(tasks_, source, destination, rate);
  }
  // Starts a task that must be accepted; returns its handle.
  std::string StartOk(const std::string& source, const std::string& destination = "",
                      std::optional<int> rate = std::nullopt) {
    auto r = Start(source, destination, rate);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : "";
  }
  Result<int64_t> Cancel(const std::string& handle) {
    Result<int64_t> out = Status(ErrorCode::kInternal, "not called");
    tasks_.Cancel(handle, [&](Result<int64_t> r) { out = std::move(r); });
    return out;
  }
  std::vector<MoveTaskStatus> List(MessageMoveTasks& tasks, const std::string& source,
                                   std::optional<int> max_results = 10) {
    auto r = tasks.List(source, max_results);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<MoveTaskStatus>{};
  }
  // The source's most recent task.
  MoveTaskStatus Latest(const std::string& source) {
    auto tasks = List(tasks_, source, 1);
    EXPECT_EQ(tasks.size(), 1u);
    return tasks.empty() ? MoveTaskStatus{} : tasks[0];
  }
  // One tick of the server's timer, `millis` after the previous one.
  void Step(int64_t millis = 1000) {
    clock_.Advance(millis);
    tasks_.Advance();
  }

  ManualClock clock_;
  storage::MemoryEngine engine_;
  QueueService service_;
  MessageMoveTasks tasks_;
};

// --- StartMessageMoveTask validation ---

TEST_F(MoveTaskTest, StartValidatesSourceAndDestination) {
  Create("dlq");
  CreateSource("src", "dlq");
  Create("plain");
  Create("other.fifo");

  auto not_dlq = Start(Arn("plain"));
  EXPECT_EQ(not_dlq.status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(not_dlq.status().message(), "Source queue must be configured as a Dead Letter Queue.");

  auto unknown = Start(Arn("nope"));
  EXPECT_EQ(unknown.status().code(), ErrorCode::kResourceNotFound);
  EXPECT_EQ(unknown.status().message(),
            "The resource that you specified for the SourceArn parameter doesn't exist.");

  EXPECT_EQ(Start("").status().code(), ErrorCode::kMissingParameter);
  EXPECT_EQ(Start("not-an-arn").status().code(), ErrorCode::kInvalidParameterValue);

  auto no_destination = Start(Arn("dlq"), Arn("nope"));
  EXPECT_EQ(no_destination.status().code(), ErrorCode::kResourceNotFound);
  EXPECT_EQ(no_destination.status().message(),
            "The resource that you specified for the DestinationArn parameter doesn't exist.");

  auto same = Start(Arn("dlq"), Arn("dlq"));
  EXPECT_EQ(same.status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(same.status().message(),
            "Source queue arn and destination queue arn cannot be the same.");

  auto mismatch = Start(Arn("dlq"), Arn("other.fifo"));
  EXPECT_EQ(mismatch.status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(mismatch.status().message(),
            "The source queue and destination queue must be of the same queue type.");

  for (int rate : {0, -1, 501}) {
    auto r = Start(Arn("dlq"), "", rate);
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidParameterValue) << rate;
    EXPECT_EQ(r.status().message(),
              "Value for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: You must "
              "enter a number that's between 1 and 500.");
  }
  // Nothing was started by the refused requests.
  EXPECT_TRUE(List(tasks_, Arn("dlq")).empty());
}

TEST_F(MoveTaskTest, FifoDeadLetterQueueNeedsFifoDestination) {
  Create("dlq.fifo");
  CreateSource("src.fifo", "dlq.fifo");
  Create("plain");
  EXPECT_EQ(Start(Arn("dlq.fifo"), Arn("plain")).status().code(),
            ErrorCode::kInvalidParameterValue);
  Create("other.fifo");
  EXPECT_TRUE(Start(Arn("dlq.fifo"), Arn("other.fifo")).ok());
}

TEST_F(MoveTaskTest, OnlyOneRunningTaskPerSource) {
  QueuePtr dlq = Create("dlq");
  QueuePtr src = CreateSource("src", "dlq");
  Redrive(src, {"m"});
  std::string handle = StartOk(Arn("dlq"), "", 500);  // 500: the highest rate allowed
  auto second = Start(Arn("dlq"), "", 1);
  EXPECT_EQ(second.status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(second.status().message(),
            "There is already a task running. Only one active task is allowed for a source queue "
            "arn at a given time.");
  ASSERT_TRUE(Cancel(handle).ok());
  EXPECT_TRUE(Start(Arn("dlq"), "", 1).ok());  // the old task is no longer active
}

// --- moving ---

TEST_F(MoveTaskTest, DefaultDestinationIsEachMessagesSource) {
  QueuePtr dlq = Create("dlq");
  QueuePtr a = CreateSource("src-a", "dlq");
  QueuePtr b = CreateSource("src-b", "dlq");
  Redrive(a, {"a1", "a2"});
  Redrive(b, {"b1"});
  ASSERT_EQ(Size(dlq), 3);
  StartOk(Arn("dlq"));
  Step();
  Step();
  MoveTaskStatus status = Latest(Arn("dlq"));
  EXPECT_EQ(status.status, "COMPLETED");
  EXPECT_EQ(status.moved, 3);
  EXPECT_EQ(status.to_move, 3);
  EXPECT_TRUE(status.destination_arn.empty());
  EXPECT_EQ(Size(dlq), 0);
  EXPECT_EQ(Bodies(Receive(a)), (std::vector<std::string>{"a1", "a2"}));
  EXPECT_EQ(Bodies(Receive(b)), std::vector<std::string>{"b1"});
}

TEST_F(MoveTaskTest, ExplicitDestination) {
  QueuePtr dlq = Create("dlq");
  QueuePtr src = CreateSource("src", "dlq");
  QueuePtr other = Create("other");
  Redrive(src, {"m1", "m2"});
  StartOk(Arn("dlq"), Arn("other"));
  Step();
  Step();
  MoveTaskStatus status = Latest(Arn("dlq"));
  EXPECT_EQ(status.status, "COMPLETED");
  EXPECT_EQ(status.destination_arn, Arn("other"));
  EXPECT_EQ(Bodies(Receive(other)), (std::vector<std::string>{"m1", "m2"}));
  EXPECT_TRUE(Receive(src).empty());
  EXPECT_EQ(Size(dlq), 0);
}

TEST_F(MoveTaskTest, MovedMessagesAreNewMessages) {
  QueuePtr dlq = Create("dlq");
  QueuePtr src = CreateSource("src", "dlq");
  NewMessage m;
  m.body = "payload";
  m.attributes["k"] = {"String", "v", ""};
  m.attributes["bin"] = {"Binary", "", std::string("\x01\x02", 2)};
  SentMessage sent = Send(src, m);
  for (int i = 0; i < 3 && Size(src) > 0; ++i) Receive(src);
  // Received twice in the dead-letter queue too (the redrive kept the source's count, as AWS
  // does): the move task must reset the count, or the source (maxReceiveCount 1) would send it
  // straight back.
  ASSERT_EQ(Receive(dlq, 10, 0).size(), 1u);
  auto in_dlq = Receive(dlq, 10, 0);
  ASSERT_EQ(in_dlq.size(), 1u);
  EXPECT_EQ(in_dlq[0].message->message_id, sent.message_id);  // redrive keeps the identity
  EXPECT_EQ(in_dlq[0].message->state.receive_count, 3u);

  clock_.AdvanceSeconds(5);
  StartOk(Arn("dlq"));
  Step();
  const int64_t moved_at = clock_.NowMillis();
  auto back = Receive(src);
  ASSERT_EQ(back.size(), 1u);
  const Message& moved = *back[0].message;
  EXPECT_NE(moved.message_id, sent.message_id);
  EXPECT_EQ(moved.body, "payload");
  EXPECT_EQ(moved.attributes, m.attributes);
  EXPECT_EQ(moved.md5_of_body, sent.md5_of_body);
  EXPECT_EQ(moved.md5_of_attributes, sent.md5_of_attributes);
  EXPECT_EQ(moved.state.receive_count, 1u);  // this receive is its first
  EXPECT_EQ(moved.sent_ms, moved_at);        // a new enqueue time
  EXPECT_TRUE(moved.dead_letter_source_arn.empty());
}

TEST_F(MoveTaskTest, RateLimitsMessagesPerSecond) {
  QueuePtr dlq = Create("dlq");
  QueuePtr src = CreateSource("src", "dlq");
  QueuePtr other = Create("other");
  std::vector<std::string> bodies;
  for (int i = 0; i < 10; ++i) bodies.push_back("m" + std::to_string(i));
  Redrive(src, bodies);
  StartOk(Arn("dlq"), Arn("other"), 2);
  tasks_.Advance();  // no time has passed: nothing may move yet
  EXPECT_EQ(Latest(Arn("dlq")).moved, 0);
  Step(1000);
  EXPECT_EQ(Latest(Arn("dlq")).moved, 2);
  tasks_.Advance();  // again at the same instant: the second's allowance is spent
  tasks_.Advance();
  EXPECT_EQ(Latest(Arn("dlq")).moved, 2);
  Step(1000);
  EXPECT_EQ(Latest(Arn("dlq")).moved, 4);
  // An idle stretch does not build up a burst beyond one second's worth.
  Step(10'000);
  EXPECT_EQ(Latest(Arn("dlq")).moved, 6);
  Step(500);
  EXPECT_EQ(Latest(Arn("dlq")).moved, 7);
  EXPECT_EQ(Size(other), 7);
  EXPECT_EQ(Size(dlq), 3);
  for (int i = 0; i < 5; ++i) Step(1000);
  MoveTaskStatus status = Latest(Arn("dlq"));
  EXPECT_EQ(status.status, "COMPLETED");
  EXPECT_EQ(status.moved, 10);
  EXPECT_EQ(status.to_move, 10);
  EXPECT_EQ(status.max_per_second, 2);
  // In send order.
  std::vector<std::string> got;
  for (auto r = Receive(other); !r.empty(); r = Receive(other)) {
    for (auto& b : Bodies(r)) got.push_back(b);
  }
  EXPECT_EQ(got, bodies);
}

TEST_F(MoveTaskTest, OnlyMessagesPresentAtStartAreMoved) {
  QueuePtr dlq = Create("dlq");
  QueuePtr src = CreateSource("src", "dlq");
  QueuePtr other = Create("other");
  Redrive(src, {"before"});
  StartOk(Arn("dlq"), Arn("other"));
  Redrive(src, {"after"});
  Step();
  Step();
  EXPECT_EQ(Latest(Arn("dlq")).status, "COMPLETED");
  EXPECT_EQ(Bodies(Receive(other)), std::vector<std::string>{"before"});
  EXPECT_EQ(Bodies(Receive(dlq)), std::vector<std::string>{"after"});
}

TEST_F(MoveTaskTest, InFlightMessagesMoveOnceVisible) {
  QueuePtr dlq = Create("dlq");
  QueuePtr src = CreateSource("src", "dlq");
  QueuePtr other = Create("other");
  Redrive(src, {"m1", "m2"});
  ASSERT_EQ(Receive(dlq, 1, 30).size(), 1u);  // someone is looking at m1
  StartOk(Arn("dlq"), Arn("other"));
  Step();
  Step();
  MoveTaskStatus status = Latest(Arn("dlq"));
  EXPECT_EQ(status.status, "RUNNING");  // m1 is still to come
  EXPECT_EQ(status.moved, 1);
  EXPECT_EQ(status.to_move, 2);
  clock_.AdvanceSeconds(30);
  Step();
  Step();
  status = Latest(Arn("dlq"));
  EXPECT_EQ(status.status, "COMPLETED");
  EXPECT_EQ(status.moved, 2);
  EXPECT_EQ(Size(other), 2);
}

TEST_F(MoveTaskTest, FifoMessagesGoBackInGroupOrder) {
  QueuePtr dlq = Create("dlq.fifo");
  QueuePtr src = CreateSource("src.fifo", "dlq.fifo");
  Send(src, "a1", "A");
  Send(src, "b1", "B");
  Send(src, "a2", "A");
  Send(src, "a3", "A");
  ASSERT_NO_THROW(Redrive(src, {}));
  ASSERT_EQ(Size(dlq), 4);
  StartOk(Arn("dlq.fifo"));
  Step();
  Step();
  EXPECT_EQ(Latest(Arn("dlq.fifo")).status, "COMPLETED");
  auto got = Receive(src);
  std::vector<std::string> group_a;
  for (const auto& r : got) {
    if (r.message->message_group_id == "A") group_a.push_back(r.message->body);
    EXPECT_EQ(r.message->sequence_number.size(), 20u);
  }
  EXPECT_EQ(got.size(), 4u);
  EXPECT_EQ(group_a, (std::vector<std::string>{"a1", "a2", "a3"}));
}

TEST_F(MoveTaskTest, FifoMoveLeavesDeadLetterGroupUsable) {
  // Messages sent straight to a FIFO dead-letter queue (no redrive needed), moved to an
  // explicit destination; afterwards the same group must still flow in the dead-letter queue.
  QueuePtr dlq = Create("dlq.fifo");
  CreateSource("src.fifo", "dlq.fifo");
  QueuePtr other = Create("other.fifo");
  Send(dlq, "a1", "A");
  Send(dlq, "a2", "A");
  StartOk(Arn("dlq.fifo"), Arn("other.fifo"));
  Step();
  Step();
  EXPECT_EQ(Latest(Arn("dlq.fifo")).status, "COMPLETED");
  auto moved = Receive(other);
  EXPECT_EQ(Bodies(moved), (std::vector<std::string>{"a1", "a2"}));
  for (const auto& r : moved) EXPECT_EQ(r.message->message_group_id, "A");
  Send(dlq, "a3", "A");
  auto later = Receive(dlq);
  ASSERT_FALSE(later.empty());
  EXPECT_EQ(Bodies(later), std::vector<std::string>{"a3"});
}

// --- ListMessageMoveTasks ---

TEST_F(MoveTaskTest, ListNewestFirstWithHandleOnlyWhileRunning) {
  QueuePtr dlq = Create("dlq");
  QueuePtr src = CreateSource("src", "dlq");
  Create("other");
  EXPECT_TRUE(List(tasks_, Arn("dlq")).empty());  // no tasks yet

  Redrive(src, {"m1", "m2"});
  StartOk(Arn("dlq"));
  Step();
  Step();
  // Take the two moved messages out of the way (deleted, so the next Redrive leaves them).
  for (const auto& r : Receive(src)) ASSERT_TRUE(DeleteNow(service_, src, r.receipt_handle).ok());
  Redrive(src, {"m3", "m4", "m5"});
  std::string running = StartOk(Arn("dlq"), Arn("other"), 1);

  auto tasks = List(tasks_, Arn("dlq"));
  ASSERT_EQ(tasks.size(), 2u);
  const MoveTaskStatus& newest = tasks[0];
  EXPECT_EQ(newest.status, "RUNNING");
  EXPECT_EQ(newest.task_handle, running);
  EXPECT_EQ(newest.source_arn, Arn("dlq"));
  EXPECT_EQ(newest.destination_arn, Arn("other"));
  EXPECT_EQ(newest.max_per_second, 1);
  EXPECT_EQ(newest.moved, 0);
  EXPECT_EQ(newest.to_move, 3);
  const MoveTaskStatus& oldest = tasks[1];
  EXPECT_EQ(oldest.status, "COMPLETED");
  EXPECT_TRUE(oldest.task_handle.empty());
  EXPECT_TRUE(oldest.destination_arn.empty());
  EXPECT_EQ(oldest.max_per_second, 0);
  EXPECT_EQ(oldest.moved, oldest.to_move);
  EXPECT_EQ(oldest.moved, 2);
  EXPECT_TRUE(oldest.failure_reason.empty());
  EXPECT_GT(newest.started_ms, oldest.started_ms);

  // MaxResults defaults to 1: the newest.
  auto one = tasks_.List(Arn("dlq"), std::nullopt);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].task_handle, running);
}

TEST_F(MoveTaskTest, ListValidatesRequest) {
  Create("dlq");
  CreateSource("src", "dlq");
  for (int bad : {0, 11}) {
    auto r = tasks_.List(Arn("dlq"), bad);
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidParameterValue) << bad;
    EXPECT_EQ(r.status().message(),
              "Value for parameter MaxResults is invalid. Reason: You must enter a number that's "
              "between 1 and 10.");
  }
  EXPECT_EQ(tasks_.List(Arn("nope"), 1).status().code(), ErrorCode::kResourceNotFound);
  EXPECT_EQ(tasks_.List("", 1).status().code(), ErrorCode::kMissingParameter);
}

TEST_F(MoveTaskTest, ListKeepsTheTenMostRecentTasks) {
  Create("dlq");
  CreateSource("src", "dlq");
  std::vector<std::string> handles;
  for (int i = 0; i < 11; ++i) {
    clock_.Advance(1);
    handles.push_back(StartOk(Arn("dlq")));
    ASSERT_TRUE(Cancel(handles.back()).ok());
  }
  auto tasks = List(tasks_, Arn("dlq"), 10);
  ASSERT_EQ(tasks.size(), 10u);
  for (size_t i = 1; i < tasks.size(); ++i) EXPECT_GT(tasks[i - 1].started_ms, tasks[i].started_ms);
}

// --- CancelMessageMoveTask ---

TEST_F(MoveTaskTest, CancelStopsTheTask) {
  QueuePtr dlq = Create("dlq");
  QueuePtr src = CreateSource("src", "dlq");
  QueuePtr other = Create("other");
  Redrive(src, {"m1", "m2", "m3", "m4", "m5"});
  std::string handle = StartOk(Arn("dlq"), Arn("other"), 1);
  Step();
  auto cancelled = Cancel(handle);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  EXPECT_EQ(*cancelled, 1);
  MoveTaskStatus status = Latest(Arn("dlq"));
  EXPECT_EQ(status.status, "CANCELLED");
  EXPECT_TRUE(status.task_handle.empty());
  for (int i = 0; i < 5; ++i) Step();
  EXPECT_EQ(Latest(Arn("dlq")).moved, 1);
  EXPECT_EQ(Size(other), 1);
  EXPECT_EQ(Size(dlq), 4);

  auto again = Cancel(handle);
  EXPECT_EQ(again.status().code(), ErrorCode::kResourceNotFound);
  EXPECT_EQ(again.status().message(), "Task does not exist.");
  auto garbage = Cancel("garbage");
  EXPECT_EQ(garbage.status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(garbage.status().message(), "Value for parameter TaskHandle is invalid.");
  EXPECT_EQ(Cancel("").status().code(), ErrorCode::kMissingParameter);
}

TEST_F(MoveTaskTest, CancelOfHandleWhoseSourceIsGone) {
  QueuePtr dlq = Create("dlq");
  CreateSource("src", "dlq");
  std::string handle = StartOk(Arn("dlq"));
  Status deleted(ErrorCode::kInternal, "");
  service_.DeleteQueue(dlq, [&](Status s) { deleted = s; });
  ASSERT_TRUE(deleted.ok());
  auto r = Cancel(handle);
  EXPECT_EQ(r.status().code(), ErrorCode::kResourceNotFound);
  EXPECT_EQ(r.status().message(),
            "The resource that you specified for the SourceArn parameter doesn't exist.");
}

// --- failures ---

TEST_F(MoveTaskTest, DeletedDestinationFailsTheTask) {
  QueuePtr dlq = Create("dlq");
  QueuePtr src = CreateSource("src", "dlq");
  QueuePtr other = Create("other");
  Redrive(src, {"m1", "m2", "m3", "m4", "m5"});
  StartOk(Arn("dlq"), Arn("other"), 1);
  Step();
  Status deleted(ErrorCode::kInternal, "");
  service_.DeleteQueue(other, [&](Status s) { deleted = s; });
  ASSERT_TRUE(deleted.ok());
  Step();
  MoveTaskStatus status = Latest(Arn("dlq"));
  EXPECT_EQ(status.status, "FAILED");
  EXPECT_EQ(status.failure_reason, kNonExistentQueue);
  EXPECT_TRUE(status.task_handle.empty());
  EXPECT_EQ(status.moved, 1);
  EXPECT_EQ(Size(dlq), 4);  // nothing lost
  Step();
  EXPECT_EQ(Latest(Arn("dlq")).moved, 1);
}

TEST_F(MoveTaskTest, DeletedOriginalSourceFailsTheTask) {
  QueuePtr dlq = Create("dlq");
  QueuePtr src = CreateSource("src", "dlq");
  Redrive(src, {"m1"});
  Status deleted(ErrorCode::kInternal, "");
  service_.DeleteQueue(src, [&](Status s) { deleted = s; });
  ASSERT_TRUE(deleted.ok());
  // dlq is still some queue's dead-letter queue, so a task can start.
  CreateSource("src2", "dlq");
  StartOk(Arn("dlq"));
  Step();
  MoveTaskStatus status = Latest(Arn("dlq"));
  EXPECT_EQ(status.status, "FAILED");
  EXPECT_EQ(status.failure_reason, kNonExistentQueue);
  EXPECT_EQ(Size(dlq), 1);
}

TEST_F(MoveTaskTest, MessageWithoutKnownSourceFailsTheTask) {
  QueuePtr dlq = Create("dlq");
  QueuePtr src = CreateSource("src", "dlq");
  Redrive(src, {"known"});
  Send(dlq, "orphan");  // sent straight to the dead-letter queue: no source to go back to
  StartOk(Arn("dlq"));
  Step();
  MoveTaskStatus status = Latest(Arn("dlq"));
  EXPECT_EQ(status.status, "FAILED");
  EXPECT_EQ(status.failure_reason, "CouldNotDetermineMessageSource");
  EXPECT_TRUE(status.task_handle.empty());
  EXPECT_EQ(status.moved, 1);
  EXPECT_EQ(Bodies(Receive(src)), std::vector<std::string>{"known"});
  EXPECT_EQ(Size(dlq), 1);
  // With an explicit destination the same message can be moved.
  StartOk(Arn("dlq"), Arn("src"));
  Step();
  Step();
  EXPECT_EQ(Latest(Arn("dlq")).status, "COMPLETED");
  EXPECT_EQ(Bodies(Receive(src)), std::vector<std::string>{"orphan"});
}

// --- restart ---

TEST_F(MoveTaskTest, RunningTaskResumesAfterRestart) {
  QueuePtr dlq = Create("dlq");
  QueuePtr src = CreateSource("src", "dlq");
  Create("other");
  Redrive(src, {"m1", "m2", "m3", "m4", "m5", "m6"});
  std::string handle = StartOk(Arn("dlq"), Arn("other"), 2);
  Step();
  ASSERT_EQ(Latest(Arn("dlq")).moved, 2);

  clock_.AdvanceSeconds(5);
  QueueService service(engine_, clock_);
  ASSERT_TRUE(service.Load().ok());
  MessageMoveTasks tasks(service, engine_, clock_);
  ASSERT_TRUE(tasks.Load().ok());
  auto listed = List(tasks, Arn("dlq"));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].status, "RUNNING");
  EXPECT_EQ(listed[0].task_handle, handle);
  EXPECT_EQ(listed[0].moved, 2);
  EXPECT_EQ(listed[0].to_move, 6);
  EXPECT_EQ(listed[0].max_per_second, 2);

  QueuePtr dlq2 = *service.GetQueue(dlq->id());
  QueuePtr other2 = *service.GetQueue({kRegion, kAccount, "other"});
  EXPECT_EQ(Size(dlq2), 4);
  EXPECT_EQ(Size(other2), 2);
  for (int i = 0; i < 4; ++i) {
    clock_.AdvanceSeconds(1);
    tasks.Advance();
  }
  listed = List(tasks, Arn("dlq"));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].status, "COMPLETED");
  EXPECT_EQ(listed[0].moved, 6);
  EXPECT_EQ(Size(dlq2), 0);
  std::vector<std::string> got;
  for (auto r = Receive(service, other2); !r.empty(); r = Receive(service, other2)) {
    for (auto& b : Bodies(r)) got.push_back(b);
  }
  EXPECT_EQ(got, (std::vector<std::string>{"m1", "m2", "m3", "m4", "m5", "m6"}));
}

TEST_F(MoveTaskTest, FinishedTasksAreListedAfterRestart) {
  QueuePtr dlq = Create("dlq");
  QueuePtr src = CreateSource("src", "dlq");
  Redrive(src, {"m1"});
  StartOk(Arn("dlq"));
  Step();
  Step();
  ASSERT_EQ(Latest(Arn("dlq")).status, "COMPLETED");
  QueueService service(engine_, clock_);
  ASSERT_TRUE(service.Load().ok());
  MessageMoveTasks tasks(service, engine_, clock_);
  ASSERT_TRUE(tasks.Load().ok());
  auto listed = List(tasks, Arn("dlq"));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].status, "COMPLETED");
  EXPECT_TRUE(listed[0].task_handle.empty());
  EXPECT_EQ(listed[0].moved, 1);
}

}  // namespace
}  // namespace postbox::core
