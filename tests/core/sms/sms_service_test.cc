// SmsService and SmsChannel through the real outbox with a fake provider and a ManualClock:
// SMS attributes and opt-outs are stored and reloaded, a Publish is stored before its answer,
// the channel routes by prefix, refuses opted-out numbers and SMS beyond MonthlySpendLimit,
// keeps a provider under its rate limit without spending attempts, and a provider's STOP
// report opts the number out.
#include "core/sms/sms_service.h"

#include <gtest/gtest.h>

#include <deque>
#include <string>

#include "core/config/config_store.h"
#include "core/queue/queue_service.h"
#include "core/sms/sms_channel.h"
#include "storage/memory_engine.h"

namespace postbox::core {
namespace {

// Keeps every SMS; the test answers them in order.
class FakeProvider final : public channels::SmsProvider {
 public:
  explicit FakeProvider(std::string name) : name_(std::move(name)) {}
  std::string_view name() const override { return name_; }
  void Send(const channels::SmsMessage& message,
            std::function<void(channels::SmsResult)> done) override {
    pending.push_back({message, std::move(done)});
  }
  channels::SmsMessage Answer(channels::SmsVerdict verdict) {
    auto [message, done] = std::move(pending.front());
    pending.pop_front();
    done({verdict, verdict == channels::SmsVerdict::kSent ? 202 : 400, "", -1});
    return message;
  }
  std::deque<std::pair<channels::SmsMessage, std::function<void(channels::SmsResult)>>> pending;

 private:
  std::string name_;
};

class FakeHttp final : public channels::HttpSender {
 public:
  void Post(channels::OutboundRequest, channels::OutboundDone done) override { done(200, ""); }
};

constexpr char kScope[] = "us-east-1/000000000000";

class SmsTest : public ::testing::Test {
 protected:
  SmsTest()
      : queues_(engine_, clock_),
        outbox_(engine_, clock_, http_, queues_),
        config_(engine_),
        sms_(engine_, clock_, config_, outbox_, Options()),
        channel_(sms_, clock_, &sens_, {{"1", &twilio_}}) {
    outbox_.AddChannel("sms", &channel_);
  }

  static SmsOptions Options() {
    SmsOptions options;
    options.price_per_message = 1.0;
    return options;
  }

  static PublishRequest Text(std::string text) {
    PublishRequest request;
    request.message = std::move(text);
    return request;
  }
  std::string Publish(const std::string& number, const std::string& text) {
    Result<std::string> id = Status(ErrorCode::kInternal, "not answered");
    sms_.Publish(kScope, number, Text(text), [&](Result<std::string> r) { id = std::move(r); });
    EXPECT_TRUE(id.ok()) << id.status().message();
    return id.ok() ? *id : "";
  }
  Status Set(std::map<std::string, std::string> attributes) {
    Status out(ErrorCode::kInternal, "not answered");
    sms_.SetAttributes(kScope, std::move(attributes), [&](Status s) { out = s; });
    return out;
  }

  ManualClock clock_;
  storage::MemoryEngine engine_;
  QueueService queues_;
  FakeHttp http_;
  DeliveryOutbox outbox_;
  ConfigStore config_;
  SmsService sms_;
  FakeProvider sens_{"sens"};
  FakeProvider twilio_{"twilio"};
  SmsChannel channel_;
};

TEST_F(SmsTest, PublishIsStoredThenRoutedByPrefix) {
  const std::string id = Publish("+821012345678", "hello");
  Publish("+15551234567", "hi");
  EXPECT_EQ(outbox_.pending(), 2u);
  outbox_.Advance();
  ASSERT_EQ(sens_.pending.size(), 1u);
  ASSERT_EQ(twilio_.pending.size(), 1u);
  channels::SmsMessage sent = sens_.Answer(channels::SmsVerdict::kSent);
  EXPECT_EQ(sent.to, "+821012345678");
  EXPECT_EQ(sent.text, "hello");
  EXPECT_EQ(sent.message_id, id);
  EXPECT_EQ(sent.sms_type, "Promotional");  // AWS's default type
  twilio_.Answer(channels::SmsVerdict::kSent);
  EXPECT_EQ(outbox_.pending(), 0u);
  EXPECT_EQ(channel_.stats().at("sens")->sent.value(), 1u);
}

TEST_F(SmsTest, PublishRefusesWhatAwsRefuses) {
  Status out;
  auto answer = [&](Result<std::string> r) { out = r.status(); };
  sms_.Publish(kScope, "01012345678", Text("x"), answer);
  EXPECT_EQ(out.message(),
            "Invalid parameter: PhoneNumber Reason: 01012345678 is not valid to publish to");
  sms_.Publish(kScope, "+821012345678", Text(""), answer);
  EXPECT_EQ(out.code(), ErrorCode::kInvalidParameter);
  sms_.Publish(kScope, "+821012345678", Text(std::string(1601, 'a')), answer);
  EXPECT_EQ(out.code(), ErrorCode::kInvalidParameter);
  PublishRequest no_default = Text(R"({"sms": "hi"})");
  no_default.message_structure = "json";
  sms_.Publish(kScope, "+821012345678", no_default, answer);
  EXPECT_EQ(out.message(),
            "Invalid parameter: Message Structure - No default entry in JSON message body");
}

TEST_F(SmsTest, MessageStructureGivesThePhoneItsSmsEntry) {
  PublishRequest request = Text(R"({"default": "long text for others", "sms": "short"})");
  request.message_structure = "json";
  Status out(ErrorCode::kInternal, "not answered");
  sms_.Publish(kScope, "+821012345678", request, [&](Result<std::string> r) { out = r.status(); });
  ASSERT_TRUE(out.ok()) << out.message();
  outbox_.Advance();
  ASSERT_EQ(sens_.pending.size(), 1u);
  EXPECT_EQ(sens_.Answer(channels::SmsVerdict::kSent).text, "short");
}

TEST_F(SmsTest, AttributesAreValidatedStoredAndReloaded) {
  EXPECT_TRUE(Set({{"DefaultSenderID", "Shop1"}, {"DefaultSMSType", "Transactional"}}).ok());
  EXPECT_EQ(Set({{"DefaultSMSType", "Urgent"}}).code(), ErrorCode::kInvalidParameter);
  EXPECT_EQ(Set({{"DefaultSenderID", "123"}}).code(), ErrorCode::kInvalidParameter);  // no letter
  EXPECT_EQ(Set({{"Nope", "1"}}).code(), ErrorCode::kInvalidParameter);
  EXPECT_EQ(Set({{"DeliveryStatusSuccessSamplingRate", "101"}}).code(),
            ErrorCode::kInvalidParameter);
  EXPECT_TRUE(Set({{"MonthlySpendLimit", "5"}}).ok());  // merged with the earlier ones
  SmsService reloaded(engine_, clock_, config_, outbox_, Options());
  ASSERT_TRUE(reloaded.Load().ok());
  auto all = reloaded.GetAttributes(kScope, {});
  EXPECT_EQ(all.size(), 3u);
  EXPECT_EQ(all["DefaultSenderID"], "Shop1");
  EXPECT_EQ(reloaded.GetAttributes(kScope, {"MonthlySpendLimit"}).at("MonthlySpendLimit"), "5");
  EXPECT_TRUE(reloaded.GetAttributes("eu-west-1/000000000000", {}).empty());

  Publish("+821012345678", "x");
  outbox_.Advance();
  channels::SmsMessage sent = sens_.Answer(channels::SmsVerdict::kSent);
  EXPECT_EQ(sent.sender_id, "Shop1");
  EXPECT_EQ(sent.sms_type, "Transactional");
}

TEST_F(SmsTest, StopReportOptsOutUntilOptedIn) {
  const std::string number = "+15551234567";
  Publish(number, "first");
  outbox_.Advance();
  twilio_.Answer(channels::SmsVerdict::kOptedOut);
  EXPECT_TRUE(*sms_.IsOptedOut(kScope, number));
  EXPECT_EQ(outbox_.pending(), 0u);  // given up at once
  Publish(number, "second");
  outbox_.Advance();
  EXPECT_TRUE(twilio_.pending.empty());  // not sent to the provider
  EXPECT_EQ(channel_.refused_opted_out.value(), 1u);

  SmsService reloaded(engine_, clock_, config_, outbox_, Options());
  ASSERT_TRUE(reloaded.Load().ok());
  EXPECT_TRUE(*reloaded.IsOptedOut(kScope, number));

  Status opted_in(ErrorCode::kInternal, "");
  sms_.OptIn(kScope, number, [&](Status s) { opted_in = s; });
  EXPECT_TRUE(opted_in.ok());
  EXPECT_FALSE(*sms_.IsOptedOut(kScope, number));
  EXPECT_FALSE(sms_.IsOptedOut(kScope, "nope").ok());
}

TEST_F(SmsTest, OptedOutListPages) {
  for (int i = 0; i < 150; ++i) sms_.OptOut(kScope, "+1555000" + std::to_string(1000 + i));
  auto first = sms_.ListOptedOut(kScope, "");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->first.size(), 100u);
  ASSERT_FALSE(first->second.empty());
  auto second = sms_.ListOptedOut(kScope, first->second);
  EXPECT_EQ(second->first.size(), 50u);
  EXPECT_TRUE(second->second.empty());
  EXPECT_EQ(second->first.front(), "+15550001100");
  EXPECT_FALSE(sms_.ListOptedOut(kScope, "garbage!").ok());
}

TEST_F(SmsTest, MonthlySpendLimitHoldsAcrossRestartAndResetsNextMonth) {
  ASSERT_TRUE(Set({{"MonthlySpendLimit", "2"}}).ok());  // 1 USD an SMS here
  for (int i = 0; i < 3; ++i) Publish("+821012345678", "sms " + std::to_string(i));
  outbox_.Advance();
  // All three are offered before any was counted; the first two are sent.
  while (!sens_.pending.empty()) sens_.Answer(channels::SmsVerdict::kSent);
  Publish("+821012345678", "over");
  outbox_.Advance();
  EXPECT_TRUE(sens_.pending.empty());
  EXPECT_EQ(channel_.refused_spend.value(), 1u);

  SmsService reloaded(engine_, clock_, config_, outbox_, Options());
  ASSERT_TRUE(reloaded.Load().ok());
  EXPECT_FALSE(reloaded.CheckSpend(kScope).ok());
  clock_.AdvanceSeconds(int64_t(32) * 86400);  // the next month
  EXPECT_TRUE(reloaded.CheckSpend(kScope).ok());
}

TEST_F(SmsTest, RateLimitHoldsWithoutSpendingAttempts) {
  channel_.SetRateLimit(&sens_, 2);
  for (int i = 0; i < 5; ++i) Publish("+8210000000" + std::to_string(i), "x");
  outbox_.Advance();
  EXPECT_EQ(sens_.pending.size(), 2u);
  outbox_.Advance();  // the same second: nothing more
  EXPECT_EQ(sens_.pending.size(), 2u);
  EXPECT_EQ(channel_.stats().at("sens")->rate_limited.value(), 3u);
  clock_.Advance(2000);  // held back 1 to 2 s
  outbox_.Advance();
  EXPECT_EQ(sens_.pending.size(), 4u);
  while (!sens_.pending.empty()) sens_.Answer(channels::SmsVerdict::kSent);
  clock_.Advance(2000);
  outbox_.Advance();
  ASSERT_EQ(sens_.pending.size(), 1u);
  sens_.Answer(channels::SmsVerdict::kSent);
  EXPECT_EQ(outbox_.pending(), 0u);
}

TEST_F(SmsTest, TransientFailuresAreRetriedPermanentOnesGivenUp) {
  Publish("+821012345678", "x");
  outbox_.Advance();
  sens_.Answer(channels::SmsVerdict::kRetry);
  EXPECT_EQ(outbox_.pending(), 1u);
  clock_.AdvanceSeconds(12);  // AWS's managed policy: 10 s (±10 %) before the first retry
  outbox_.Advance();
  ASSERT_EQ(sens_.pending.size(), 1u);
  sens_.Answer(channels::SmsVerdict::kPermanent);
  EXPECT_EQ(outbox_.pending(), 0u);
  EXPECT_EQ(channel_.stats().at("sens")->permanent.value(), 1u);
}

}  // namespace
}  // namespace postbox::core
