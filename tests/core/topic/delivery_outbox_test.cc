// The HTTP/S delivery outbox with a fake HttpSender and a ManualClock: retries follow the
// DeliveryPolicy without sleeping, exhausted deliveries go to the dead-letter queue, the
// per-endpoint bound and the throttle hold, and stored deliveries resume after a restart.
#include "core/topic/delivery_outbox.h"

#include <gtest/gtest.h>

#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "core/queue/queue_service.h"
#include "core/queue/sync_calls.h"
#include "storage/memory_engine.h"

namespace postbox::core {
namespace {

// Records every request; the test answers them (or not) one by one.
class FakeSender final : public channels::HttpSender {
 public:
  void Post(channels::OutboundRequest request, channels::OutboundDone done) override {
    std::lock_guard lock(mu_);
    pending_.push_back({std::move(request), std::move(done)});
  }
  size_t pending() {
    std::lock_guard lock(mu_);
    return pending_.size();
  }
  channels::OutboundRequest Answer(int status) {
    std::unique_lock lock(mu_);
    auto [request, done] = std::move(pending_.front());
    pending_.pop_front();
    lock.unlock();
    done(status, status == 0 ? "connection refused" : "");
    return request;
  }

 private:
  std::mutex mu_;
  std::deque<std::pair<channels::OutboundRequest, channels::OutboundDone>> pending_;
};

// Records every mail; the test answers with an SMTP reply code.
class FakeMailSender final : public channels::MailSender {
 public:
  void Send(channels::OutboundMail mail, channels::OutboundDone done) override {
    std::lock_guard lock(mu_);
    pending_.push_back({std::move(mail), std::move(done)});
  }
  size_t pending() {
    std::lock_guard lock(mu_);
    return pending_.size();
  }
  channels::OutboundMail Answer(int status, const std::string& error = "") {
    std::unique_lock lock(mu_);
    auto [mail, done] = std::move(pending_.front());
    pending_.pop_front();
    lock.unlock();
    done(status, error);
    return mail;
  }

 private:
  std::mutex mu_;
  std::deque<std::pair<channels::OutboundMail, channels::OutboundDone>> pending_;
};

std::string Header(const channels::OutboundRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

class DeliveryOutboxTest : public ::testing::Test {
 protected:
  DeliveryOutboxTest() : queues_(engine_, clock_), outbox_(engine_, clock_, sender_, queues_) {}

  Delivery Make(const std::string& id, const std::string& endpoint = "http://127.0.0.1:1/hook") {
    Delivery d;
    d.id = id;
    d.message_type = "Notification";
    d.message_id = "m-" + id;
    d.topic_arn = "arn:aws:sns:us-east-1:000000000000:t";
    d.subscription_arn = d.topic_arn + ":sub";
    d.endpoint = endpoint;
    d.body = "body " + id;
    d.next_attempt_ms = clock_.NowMillis();
    return d;
  }
  void Add(Delivery d) {
    storage::WriteBatch batch;
    DeliveryOutbox::Stage(d, &batch);
    engine_.Commit(std::move(batch), storage::Durability::kSync, [](Status) {});
    outbox_.Activate(std::move(d));
  }
  QueuePtr CreateQueue(const std::string& name) {
    Result<QueuePtr> out = Status(ErrorCode::kInternal, "not called");
    queues_.CreateQueue({"us-east-1", "000000000000", name}, {}, {},
                        [&](Result<QueuePtr> r) { out = std::move(r); });
    return *out;
  }

  ManualClock clock_;
  storage::MemoryEngine engine_;
  QueueService queues_;
  FakeSender sender_;
  DeliveryOutbox outbox_;
};

TEST_F(DeliveryOutboxTest, PostsWithSnsHeadersAndForgetsADelivered) {
  Delivery d = Make("a");
  d.raw = true;
  Add(d);
  outbox_.Advance();
  ASSERT_EQ(sender_.pending(), 1u);
  auto request = sender_.Answer(200);
  EXPECT_EQ(request.url, "http://127.0.0.1:1/hook");
  EXPECT_EQ(request.body, "body a");
  EXPECT_EQ(Header(request, "x-amz-sns-message-type"), "Notification");
  EXPECT_EQ(Header(request, "x-amz-sns-message-id"), "m-a");
  EXPECT_EQ(Header(request, "x-amz-sns-subscription-arn"), d.subscription_arn);
  EXPECT_EQ(Header(request, "x-amz-sns-rawdelivery"), "true");
  EXPECT_EQ(Header(request, "Content-Type"), "text/plain; charset=UTF-8");
  EXPECT_EQ(outbox_.pending(), 0u);
  outbox_.Advance();
  EXPECT_EQ(sender_.pending(), 0u);

  // Confirmation requests name no subscription (it does not exist yet for the receiver).
  Delivery confirmation = Make("c");
  confirmation.message_type = "SubscriptionConfirmation";
  Add(confirmation);
  outbox_.Advance();
  EXPECT_EQ(Header(sender_.Answer(200), "x-amz-sns-subscription-arn"), "");
}

TEST_F(DeliveryOutboxTest, RetriesFollowTheDefaultPolicyThenGiveUp) {
  Add(Make("a"));  // AWS's defaults: 3 retries, 20 s apart
  outbox_.Advance();
  sender_.Answer(500);
  for (int retry = 1; retry <= 3; ++retry) {
    clock_.AdvanceSeconds(19);
    outbox_.Advance();
    EXPECT_EQ(sender_.pending(), 0u) << "retry " << retry << " came early";
    clock_.AdvanceSeconds(1);
    outbox_.Advance();
    ASSERT_EQ(sender_.pending(), 1u) << "retry " << retry;
    sender_.Answer(0);  // no answer at all counts as a failure too
  }
  EXPECT_EQ(outbox_.pending(), 0u);  // no dead-letter queue: dropped (and logged)
  clock_.AdvanceSeconds(3600);
  outbox_.Advance();
  EXPECT_EQ(sender_.pending(), 0u);
}

TEST_F(DeliveryOutboxTest, ExhaustedDeliveriesGoToTheDeadLetterQueue) {
  QueuePtr dlq = CreateQueue("dlq");
  Delivery d = Make("a");
  d.policy.num_retries = 1;
  d.policy.min_delay_seconds = d.policy.max_delay_seconds = 1;
  d.dead_letter_queue_arn = "arn:aws:sqs:us-east-1:000000000000:dlq";
  Add(d);
  outbox_.Advance();
  sender_.Answer(404);
  clock_.AdvanceSeconds(1);
  outbox_.Advance();
  sender_.Answer(503);
  ReceiveOptions options;
  options.max_messages = 10;
  auto received = queues_.Receive(dlq, options);
  ASSERT_TRUE(received.ok());
  ASSERT_EQ(received->size(), 1u);
  EXPECT_EQ((*received)[0].message->body, "body a");
  EXPECT_EQ(outbox_.pending(), 0u);
}

TEST_F(DeliveryOutboxTest, EmailGoesThroughItsChannelAsMime) {
  FakeMailSender mail;
  EmailChannel email(mail, clock_, "alerts@postbox.test");
  outbox_.AddChannel("email", &email);
  Delivery d = Make("a", "ops@shop.test");
  d.protocol = "email";
  d.subject = "재고";
  d.from_name = "Shop, Inc.";
  Add(d);
  outbox_.Advance();
  EXPECT_EQ(sender_.pending(), 0u);  // not HTTP
  ASSERT_EQ(mail.pending(), 1u);
  channels::OutboundMail sent = mail.Answer(250);
  EXPECT_EQ(sent.from, "alerts@postbox.test");
  EXPECT_EQ(sent.recipients, std::vector<std::string>{"ops@shop.test"});
  EXPECT_NE(sent.message.find("From: \"Shop, Inc.\" <alerts@postbox.test>\r\n"), std::string::npos);
  EXPECT_NE(sent.message.find("Subject: =?UTF-8?B?7J6s6rOg?=\r\n"), std::string::npos);
  EXPECT_NE(sent.message.find("Ym9keSBh"), std::string::npos);  // "body a", base64
  EXPECT_EQ(outbox_.pending(), 0u);
  EXPECT_EQ(outbox_.stats().at("email")->delivered.value(), 1u);
}

TEST_F(DeliveryOutboxTest, APermanentRefusalIsGivenUpAtOnceATransientOneRetried) {
  FakeMailSender mail;
  EmailChannel email(mail, clock_, "alerts@postbox.test");
  outbox_.AddChannel("email", &email);
  QueuePtr dlq = CreateQueue("dlq");
  Delivery d = Make("a", "gone@shop.test");
  d.protocol = "email";
  d.policy = ManagedRetryPolicy();
  d.dead_letter_queue_arn = "arn:aws:sqs:us-east-1:000000000000:dlq";
  Add(d);
  outbox_.Advance();
  mail.Answer(451);  // try again later: AWS's fixed policy waits about 10 s (jittered ±10 %)
  clock_.AdvanceSeconds(8);
  outbox_.Advance();
  EXPECT_EQ(mail.pending(), 0u);
  clock_.AdvanceSeconds(4);
  outbox_.Advance();
  ASSERT_EQ(mail.pending(), 1u);
  mail.Answer(550, "RCPT failed: 550");  // no such mailbox: 48 retries left, none used
  ReceiveOptions options;
  options.max_messages = 10;
  auto received = queues_.Receive(dlq, options);
  ASSERT_TRUE(received.ok());
  ASSERT_EQ(received->size(), 1u);
  EXPECT_EQ(outbox_.pending(), 0u);
  const auto& stats = *outbox_.stats().at("email");
  EXPECT_EQ(stats.failed_attempts.value(), 2u);
  EXPECT_EQ(stats.permanent_failures.value(), 1u);
  EXPECT_EQ(stats.dead_lettered.value(), 1u);
}

TEST_F(DeliveryOutboxTest, AuthenticationRefusalsAreRetried) {
  // 535 (bad credentials) is the operator's to mend: the mail waits, it is not given up.
  EXPECT_FALSE(channels::IsPermanentSmtpFailure(535, "Login denied"));
  EXPECT_FALSE(channels::IsPermanentSmtpFailure(530, "STARTTLS denied"));
  EXPECT_FALSE(channels::IsPermanentSmtpFailure(550, "MAIL failed: 550"));    // our sender
  EXPECT_FALSE(channels::IsPermanentSmtpFailure(554, "Weird server reply"));  // the greeting
  EXPECT_FALSE(channels::IsPermanentSmtpFailure(451, "RCPT failed: 451"));
  EXPECT_FALSE(channels::IsPermanentSmtpFailure(0, ""));
  EXPECT_TRUE(channels::IsPermanentSmtpFailure(550, "RCPT failed: 550"));
  EXPECT_TRUE(channels::IsPermanentSmtpFailure(554, "DATA failed: 554"));
}

TEST(ManagedRetryPolicyTest, AwsFixedPolicyForEmailSmsAndPush) {
  RetryPolicy p = ManagedRetryPolicy();
  EXPECT_EQ(p.DelayBeforeRetry(1), 10);
  EXPECT_EQ(p.DelayBeforeRetry(2), 10);
  EXPECT_EQ(p.DelayBeforeRetry(3), 10);    // backoff starts at the minimum
  EXPECT_EQ(p.DelayBeforeRetry(12), 600);  // and ends at the maximum
  EXPECT_EQ(p.DelayBeforeRetry(50), 600);
  EXPECT_FALSE(p.DelayBeforeRetry(51).has_value());
  int total = 0;
  for (int retry = 1; retry <= 50; ++retry) total += *p.DelayBeforeRetry(retry);
  EXPECT_GT(total, 6 * 3600);  // "about 6 hours"
  EXPECT_LT(total, 7 * 3600);
  RetryPolicy short_one = ManagedRetryPolicy(1, 2, 1);
  EXPECT_EQ(short_one.DelayBeforeRetry(1), 1);
  EXPECT_FALSE(short_one.DelayBeforeRetry(2).has_value());
}

TEST_F(DeliveryOutboxTest, BoundsRequestsPerEndpointAndThrottles) {
  for (int i = 0; i < 20; ++i) Add(Make("a" + std::to_string(i)));
  Add(Make("other", "http://127.0.0.1:2/hook"));
  outbox_.Advance();
  EXPECT_EQ(sender_.pending(), size_t(DeliveryOutbox::kMaxInFlightPerEndpoint) + 1);
  while (sender_.pending() > 0) sender_.Answer(200);
  outbox_.Advance();
  EXPECT_EQ(sender_.pending(), size_t(DeliveryOutbox::kMaxInFlightPerEndpoint));
  while (sender_.pending() > 0) sender_.Answer(200);

  // maxReceivesPerSecond: at most that many requests start within one second.
  for (int i = 0; i < 5; ++i) {
    Delivery d = Make("t" + std::to_string(i), "http://127.0.0.1:3/hook");
    d.policy.max_receives_per_second = 2;
    Add(d);
  }
  clock_.AdvanceSeconds(1);
  outbox_.Advance();
  EXPECT_EQ(sender_.pending(), 2u + 4u);  // two throttled ones, and the rest of the first lot
}

TEST_F(DeliveryOutboxTest, ADeletedSubscriptionGetsOnlyItsGoodbye) {
  Delivery a1 = Make("a1"), a2 = Make("a2"), goodbye = Make("bye"), other = Make("b");
  goodbye.message_type = "UnsubscribeConfirmation";
  other.subscription_arn += "-other";
  for (auto* d : {&a1, &a2, &goodbye, &other}) Add(*d);
  outbox_.CancelSubscription(a1.subscription_arn);
  EXPECT_EQ(outbox_.pending(), 2u);
  outbox_.Advance();
  ASSERT_EQ(sender_.pending(), 2u);
  std::set<std::string> bodies = {sender_.Answer(200).body, sender_.Answer(200).body};
  EXPECT_EQ(bodies, (std::set<std::string>{"body bye", "body b"}));
  DeliveryOutbox restarted(engine_, clock_, sender_, queues_);  // and not stored any more
  ASSERT_TRUE(restarted.Load().ok());
  EXPECT_EQ(restarted.pending(), 0u);
}

TEST_F(DeliveryOutboxTest, ASlowEndpointDoesNotHoldUpOthers) {
  for (int i = 0; i < 5000; ++i) Add(Make("slow" + std::to_string(i)));  // never answered
  outbox_.Advance();
  EXPECT_EQ(sender_.pending(), size_t(DeliveryOutbox::kMaxInFlightPerEndpoint));
  Add(Make("fast", "http://127.0.0.1:9/hook"));
  outbox_.Advance();
  EXPECT_EQ(sender_.pending(), size_t(DeliveryOutbox::kMaxInFlightPerEndpoint) + 1);
}

TEST_F(DeliveryOutboxTest, StoredDeliveriesResumeAfterARestart) {
  Add(Make("a"));
  Add(Make("b"));
  outbox_.Advance();
  sender_.Answer(200);  // "a" delivered; "b" in flight when the process dies
  DeliveryOutbox restarted(engine_, clock_, sender_, queues_);
  ASSERT_TRUE(restarted.Load().ok());
  EXPECT_EQ(restarted.pending(), 1u);
  restarted.Advance();
  ASSERT_EQ(sender_.pending(), 2u);  // the old in-flight request, and its replay
  sender_.Answer(200);
  EXPECT_EQ(sender_.Answer(200).body, "body b");
}

// A failing endpoint's backlog is bounded: a notification that would take it over the limit
// goes straight to the dead-letter queue (or is dropped), confirmations always fit, other
// endpoints keep their own room, and every way a notification leaves makes room again.
TEST_F(DeliveryOutboxTest, AnEndpointsBacklogIsBounded) {
  QueuePtr dlq = CreateQueue("dlq");
  auto make = [&](const std::string& id, const std::string& endpoint = "http://127.0.0.1:1/hook") {
    Delivery d = Make(id, endpoint);
    d.dead_letter_queue_arn = "arn:aws:sqs:us-east-1:000000000000:dlq";
    d.policy.num_retries = 0;  // the first failure gives up
    return d;
  };
  const size_t each = DeliveryOutbox::BacklogBytes(make("n1"));
  EXPECT_GT(each, 512u);
  DeliveryOutbox outbox(engine_, clock_, sender_, queues_, /*max_backlog_bytes_per_endpoint=*/
                        2 * each + each / 2);
  auto add = [&](Delivery d) {
    storage::WriteBatch batch;
    DeliveryOutbox::Stage(d, &batch);
    engine_.Commit(std::move(batch), storage::Durability::kSync, [](Status) {});
    outbox.Activate(std::move(d));
  };
  ReceiveOptions options;
  options.max_messages = 10;
  auto dead_bodies = [&] {
    std::vector<std::string> out;
    auto dead = queues_.Receive(dlq, options);
    EXPECT_TRUE(dead.ok());
    for (const auto& r : *dead) {
      out.push_back(r.message->body);
      EXPECT_TRUE(DeleteNow(queues_, dlq, r.receipt_handle).ok());
    }
    return out;
  };

  add(make("n1"));
  add(make("n2"));
  add(make("n3"));  // over
  Delivery confirmation = make("c1");
  confirmation.message_type = "SubscriptionConfirmation";
  add(confirmation);
  add(make("o1", "http://127.0.0.1:2/hook"));
  EXPECT_EQ(outbox.pending(), 4u);
  EXPECT_EQ(dead_bodies(), (std::vector<std::string>{"body n3"}));

  // Delivered, failed for good, cancelled: each leaves room.
  outbox.Advance();
  ASSERT_EQ(sender_.pending(), 4u);
  EXPECT_EQ(sender_.Answer(200).body, "body c1");  // an endpoint's requests go in id order
  EXPECT_EQ(sender_.Answer(500).body, "body n1");  // no retries left: to the dead-letter queue
  while (sender_.pending() > 0) sender_.Answer(200);
  EXPECT_EQ(dead_bodies(), (std::vector<std::string>{"body n1"}));
  add(make("n4"));
  add(make("n5"));
  EXPECT_EQ(outbox.pending(), 2u);
  outbox.CancelSubscription(make("x").subscription_arn);
  EXPECT_EQ(outbox.pending(), 0u);
  add(make("n6"));
  add(make("n7"));
  EXPECT_EQ(outbox.pending(), 2u);
  EXPECT_TRUE(dead_bodies().empty());
  // Given-up deliveries leave no record behind.
  DeliveryOutbox restarted(engine_, clock_, sender_, queues_);
  ASSERT_TRUE(restarted.Load().ok());
  EXPECT_EQ(restarted.pending(), 2u);
}

TEST(RetryPolicyTest, PhasesAndBackoffFunctions) {
  RetryPolicy p;
  p.num_retries = 10;
  p.num_no_delay_retries = 1;
  p.num_min_delay_retries = 2;
  p.num_max_delay_retries = 2;
  p.min_delay_seconds = 1;
  p.max_delay_seconds = 101;
  EXPECT_EQ(p.DelayBeforeRetry(0), std::nullopt);
  EXPECT_EQ(p.DelayBeforeRetry(1), 0);  // no-delay phase
  EXPECT_EQ(p.DelayBeforeRetry(2), 1);  // pre-backoff, at minDelayTarget
  EXPECT_EQ(p.DelayBeforeRetry(3), 1);
  EXPECT_EQ(p.DelayBeforeRetry(4), 1);    // backoff from min...
  EXPECT_EQ(p.DelayBeforeRetry(6), 51);   // ...linearly...
  EXPECT_EQ(p.DelayBeforeRetry(8), 101);  // ...to max
  EXPECT_EQ(p.DelayBeforeRetry(9), 101);  // post-backoff, at maxDelayTarget
  EXPECT_EQ(p.DelayBeforeRetry(10), 101);
  EXPECT_EQ(p.DelayBeforeRetry(11), std::nullopt);
  for (const char* f : {"arithmetic", "geometric", "exponential"}) {
    p.backoff_function = f;
    EXPECT_EQ(p.DelayBeforeRetry(4), 1) << f;
    EXPECT_LT(*p.DelayBeforeRetry(6), 51) << f;  // slower start than linear
    EXPECT_EQ(p.DelayBeforeRetry(8), 101) << f;
  }
}

TEST(RetryPolicyTest, ValidatesWithAwsTexts) {
  EXPECT_TRUE(ValidateDeliveryPolicy(R"({"healthyRetryPolicy":{"numRetries":3}})", false).ok());
  EXPECT_EQ(
      ValidateDeliveryPolicy(R"({"healthyRetryPolicy":{"minDelayTarget":0}})", false).message(),
      "Invalid parameter: DeliveryPolicy: healthyRetryPolicy.minDelayTarget must be greater "
      "than or equal to 1");
  EXPECT_EQ(
      ValidateDeliveryPolicy(R"({"http":{"defaultHealthyRetryPolicy":{"numRetries":101}}})", true)
          .message(),
      "Invalid parameter: DeliveryPolicy: http.defaultHealthyRetryPolicy.numRetries must be "
      "less than or equal to 100");
  EXPECT_FALSE(ValidateDeliveryPolicy("[]", false).ok());
  RetryPolicy effective = EffectiveRetryPolicy(
      R"({"healthyRetryPolicy":{"numRetries":5}})",
      R"({"http":{"defaultHealthyRetryPolicy":{"numRetries":7,"minDelayTarget":3,"maxDelayTarget":9}}})");
  // The subscription's own retry policy replaces the topic's (over AWS's defaults).
  EXPECT_EQ(effective.num_retries, 5);
  EXPECT_EQ(effective.min_delay_seconds, 20);
  // Mixed with the topic's numbers the subscription's would not hold together (5 no-delay
  // retries of 3): still the subscription's alone, and its throttle applies.
  effective = EffectiveRetryPolicy(
      R"({"healthyRetryPolicy":{"numRetries":3},"throttlePolicy":{"maxReceivesPerSecond":1}})",
      R"({"http":{"defaultHealthyRetryPolicy":{"numRetries":10,"numNoDelayRetries":5}}})");
  EXPECT_EQ(effective.num_retries, 3);
  EXPECT_EQ(effective.num_no_delay_retries, 0);
  EXPECT_EQ(effective.max_receives_per_second, 1);
  // Unless the topic disables subscription overrides.
  const std::string locked =
      R"({"http":{"defaultHealthyRetryPolicy":{"numRetries":7},"disableSubscriptionOverrides":true,)"
      R"("defaultRequestPolicy":{"headerContentType":"application/json"}}})";
  const std::string own =
      R"({"healthyRetryPolicy":{"numRetries":5},"requestPolicy":{"headerContentType":"text/csv"}})";
  EXPECT_EQ(EffectiveRetryPolicy(own, locked).num_retries, 7);
  EXPECT_EQ(EffectiveContentType(own, locked), "application/json");
  EXPECT_EQ(EffectiveContentType(own, ""), "text/csv");
  EXPECT_EQ(EffectiveContentType("", ""), "text/plain; charset=UTF-8");
  EXPECT_FALSE(
      ValidateDeliveryPolicy(R"({"requestPolicy":{"headerContentType":"a\r\nb: c"}})", false).ok());
  EXPECT_FALSE(
      ValidateDeliveryPolicy(R"({"http":{"disableSubscriptionOverrides":"yes"}})", true).ok());
  // Bounded in size and nesting (showing a policy walks it recursively).
  const std::string deep =
      R"({"sicklyRetryPolicy":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_FALSE(ValidateDeliveryPolicy(deep, false).ok());
  EXPECT_EQ(SubscriptionDeliveryPolicyView(deep),
            R"({"healthyRetryPolicy":null,"sicklyRetryPolicy":null,"throttlePolicy":null,)"
            R"("requestPolicy":null,"guaranteed":false})");
  EXPECT_FALSE(ValidateDeliveryPolicy(R"({"sicklyRetryPolicy":5})", false).ok());
  auto nested = [](int levels) {  // small, but `levels` deep in all
    return R"({"sicklyRetryPolicy":)" + std::string(levels - 1, '[') +
           std::string(levels - 1, ']') + "}";
  };
  EXPECT_FALSE(ValidateDeliveryPolicy(nested(9), false).ok());
  EXPECT_EQ(ValidateDeliveryPolicy(nested(8), false).message(),
            "Invalid parameter: DeliveryPolicy: sicklyRetryPolicy must be an object");
  EXPECT_TRUE(
      ValidateDeliveryPolicy(R"({"sicklyRetryPolicy":{"a":{"b":{"c":[1,"]]]]"]}}}})", false).ok());
  EXPECT_FALSE(
      ValidateDeliveryPolicy(R"({"requestPolicy":{"headerContentType":"   "}})", false).ok());
  // A policy stored before content types were checked cannot put a line break in a header.
  EXPECT_EQ(EffectiveContentType(R"({"requestPolicy":{"headerContentType":"a/b\r\nX: y"}})", ""),
            "text/plain; charset=UTF-8");
}

TEST(DeliveryPolicyViewTest, ShowsAwsShapes) {
  const std::string topic =
      R"({"http":{"defaultHealthyRetryPolicy":{"numRetries":7},"defaultThrottlePolicy":)"
      R"({"maxReceivesPerSecond":5}}})";
  EXPECT_EQ(TopicDeliveryPolicyView(topic),
            R"({"http":{"defaultHealthyRetryPolicy":{"numRetries":7},"defaultThrottlePolicy":)"
            R"({"maxReceivesPerSecond":5},"disableSubscriptionOverrides":false}})");
  EXPECT_EQ(TopicEffectiveDeliveryPolicy(topic),
            R"({"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,)"
            R"("numRetries":7,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,)"
            R"("backoffFunction":"linear"},"defaultThrottlePolicy":{"maxReceivesPerSecond":5},)"
            R"("disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":)"
            R"("text/plain; charset=UTF-8"}}})");
  EXPECT_EQ(SubscriptionDeliveryPolicyView(R"({"healthyRetryPolicy":{"minDelayTarget":2}})"),
            R"({"healthyRetryPolicy":{"minDelayTarget":2},"sicklyRetryPolicy":null,)"
            R"("throttlePolicy":null,"requestPolicy":null,"guaranteed":false})");
  // The subscription's members over its topic's: its retry policy replaces the topic's, the
  // throttle is inherited.
  EXPECT_EQ(
      SubscriptionEffectiveDeliveryPolicy(R"({"healthyRetryPolicy":{"minDelayTarget":2}})", topic),
      R"({"healthyRetryPolicy":{"minDelayTarget":2,"maxDelayTarget":20,"numRetries":3,)"
      R"("numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,)"
      R"("backoffFunction":"linear"},"sicklyRetryPolicy":null,"throttlePolicy":)"
      R"({"maxReceivesPerSecond":5},"requestPolicy":{"headerContentType":)"
      R"("text/plain; charset=UTF-8"},"guaranteed":false})");
}

TEST(DeliveryRecordTest, KeepsItsContentTypeAndReadsOlderRecords) {
  Delivery d;
  d.id = "d1";
  d.content_type = "text/csv";
  auto decoded = DecodeDelivery(EncodeDelivery(d));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->content_type, "text/csv");
  nlohmann::json older = nlohmann::json::parse(EncodeDelivery(d));
  older["content_type"] = "text/csv\r\nX-Injected: 1";  // not as postbox writes it
  decoded = DecodeDelivery(older.dump());
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->content_type, "text/plain; charset=UTF-8");
  older.erase("content_type");
  decoded = DecodeDelivery(older.dump());
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->content_type, "text/plain; charset=UTF-8");
}

TEST(DeliveryRecordTest, EmailFieldsRoundTripAndOldRecordsAreHttp) {
  Delivery d;
  d.id = "1";
  d.protocol = "email-json";
  d.subject = "품절";
  d.from_name = "Shop";
  auto decoded = DecodeDelivery(EncodeDelivery(d));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->protocol, "email-json");
  EXPECT_EQ(decoded->subject, "품절");
  EXPECT_EQ(decoded->from_name, "Shop");
  nlohmann::json old = nlohmann::json::parse(EncodeDelivery(d));
  old.erase("protocol");
  old.erase("subject");
  old.erase("from_name");
  Delivery ses = d;
  ses.protocol = "ses";
  ses.body = std::string("Subject: \xb0\xa1\r\n\r\n\xff\x00body", 19);  // EUC-KR, not UTF-8
  ses.recipients = {"a@x.test", "b@x.test"};
  auto exact = DecodeDelivery(EncodeDelivery(ses));
  ASSERT_TRUE(exact.has_value());
  EXPECT_EQ(exact->body, ses.body);  // byte for byte
  EXPECT_EQ(exact->recipients, ses.recipients);
  auto legacy = DecodeDelivery(old.dump());
  ASSERT_TRUE(legacy.has_value());
  EXPECT_EQ(legacy->protocol, "http");
  EXPECT_EQ(legacy->subject, "");
}

}  // namespace
}  // namespace postbox::core
