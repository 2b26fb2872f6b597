// SNS topics through TopicService with the in-memory engine and a ManualClock: fan-out to SQS
// queues (signed envelope and raw), filter policies, FIFO topics, validation texts and
// reloading from storage. Expected texts follow AWS (see the SNS research notes).
#include "core/topic/topic_service.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "core/queue/queue_service.h"
#include "storage/memory_engine.h"

namespace postbox::core {
namespace {

using nlohmann::json;

constexpr char kRegion[] = "us-east-1";
constexpr char kAccount[] = "000000000000";
constexpr char kBaseUrl[] = "http://127.0.0.1:9324";

std::string QueueArn(const std::string& name) {
  return std::string("arn:aws:sqs:") + kRegion + ":" + kAccount + ":" + name;
}

AttributeValue StringValue(const std::string& type, const std::string& value) {
  AttributeValue v;
  v.data_type = type;
  v.string_value = value;
  return v;
}

// Checks an envelope's signature with the certificate the signer serves, as subscribers do.
bool SignatureVerifies(const MessageSigner& signer, const json& envelope) {
  std::string text;
  for (const char* name : {"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"}) {
    if (!envelope.contains(name)) continue;
    text += std::string(name) + "\n" + envelope[name].get<std::string>() + "\n";
  }
  const std::string& pem = signer.certificate_pem();
  BIO* bio = BIO_new_mem_buf(pem.data(), int(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) return false;
  EVP_PKEY* key = X509_get_pubkey(cert);
  auto signature = Base64Decode(envelope["Signature"].get<std::string>());
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const EVP_MD* md = envelope["SignatureVersion"] == "2" ? EVP_sha256() : EVP_sha1();
  bool ok = signature && EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature->data()),
                             signature->size(), reinterpret_cast<const unsigned char*>(text.data()),
                             text.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  X509_free(cert);
  return ok;
}

class TopicServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    signing_dir_ = std::filesystem::temp_directory_path() /
                   ("postbox-topic-test-" + std::to_string(::getpid()));
    auto signer = MessageSigner::Open(signing_dir_.string());
    ASSERT_TRUE(signer.ok()) << signer.status().ToString();
    signer_ = std::move(*signer).release();
  }
  static void TearDownTestSuite() {
    delete signer_;
    std::filesystem::remove_all(signing_dir_);
  }

  TopicServiceTest()
      : queues_(engine_, clock_),
        topics_(std::make_unique<TopicService>(engine_, clock_, queues_, *signer_)) {}

  QueuePtr CreateQueue(const std::string& name, AttributeMap attributes = {}) {
    Result<QueuePtr> out = Status(ErrorCode::kInternal, "not called");
    queues_.CreateQueue({kRegion, kAccount, name}, std::move(attributes), {},
                        [&](Result<QueuePtr> r) { out = std::move(r); });
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? *out : nullptr;
  }
  Result<std::string> CreateTopic(const std::string& name, AttributeMap attributes = {},
                                  AttributeMap tags = {}) {
    Result<std::string> out = Status(ErrorCode::kInternal, "not called");
    topics_->CreateTopic(kRegion, kAccount, name, std::move(attributes), std::move(tags),
                         [&](Result<std::string> r) { out = std::move(r); });
    return out;
  }
  Result<SubscribeResult> Subscribe(const std::string& topic, const std::string& protocol,
                                    const std::string& endpoint, AttributeMap attributes = {}) {
    Result<SubscribeResult> out = Status(ErrorCode::kInternal, "not called");
    topics_->Subscribe(topic, protocol, endpoint, std::move(attributes), kBaseUrl, "",
                       [&](Result<SubscribeResult> r) { out = std::move(r); });
    return out;
  }
  Status SetSubscriptionAttribute(const std::string& arn, const std::string& name,
                                  const std::string& value) {
    Status out(ErrorCode::kInternal, "not called");
    topics_->SetSubscriptionAttribute(arn, name, value, [&](Status s) { out = s; });
    return out;
  }
  Result<PublishResult> Publish(const std::string& topic, PublishRequest request) {
    Result<PublishResult> out = Status(ErrorCode::kInternal, "not called");
    topics_->Publish(topic, std::move(request), kBaseUrl,
                     [&](Result<PublishResult> r) { out = std::move(r); });
    return out;
  }
  Result<PublishResult> Publish(const std::string& topic, const std::string& message,
                                MessageAttributes attributes = {}) {
    PublishRequest request;
    request.message = message;
    request.attributes = std::move(attributes);
    return Publish(topic, std::move(request));
  }
  std::vector<ReceivedMessage> ReceiveAll(const QueuePtr& queue) {
    std::vector<ReceivedMessage> all;
    for (;;) {
      ReceiveOptions options;
      options.max_messages = 10;
      auto batch = queues_.Receive(queue, options);
      EXPECT_TRUE(batch.ok());
      if (!batch.ok() || batch->empty()) return all;
      for (auto& m : *batch) all.push_back(std::move(m));
    }
  }

  static inline std::filesystem::path signing_dir_;
  static inline MessageSigner* signer_ = nullptr;
  ManualClock clock_{1'700'000'000'000};
  storage::MemoryEngine engine_;
  QueueService queues_;
  std::unique_ptr<TopicService> topics_;
};

TEST_F(TopicServiceTest, FansOutAnEnvelopeToEveryQueueAndTheRawMessageWhereAsked) {
  auto topic = CreateTopic("orders");
  ASSERT_TRUE(topic.ok());
  EXPECT_EQ(*topic, "arn:aws:sns:us-east-1:000000000000:orders");
  QueuePtr a = CreateQueue("a");
  QueuePtr b = CreateQueue("b");
  QueuePtr raw = CreateQueue("raw");
  ASSERT_TRUE(Subscribe(*topic, "sqs", QueueArn("a")).ok());
  ASSERT_TRUE(Subscribe(*topic, "sqs", QueueArn("b")).ok());
  ASSERT_TRUE(Subscribe(*topic, "sqs", QueueArn("raw"), {{"RawMessageDelivery", "true"}}).ok());

  PublishRequest request;
  request.message = "out of donuts";
  request.subject = "stock";
  request.attributes["store"] = StringValue("String", "north");
  request.attributes["count"] = StringValue("Number", "0");
  AttributeValue binary;
  binary.data_type = "Binary";
  binary.binary_value = std::string("\x00\x01\xff", 3);
  request.attributes["blob"] = binary;
  auto published = Publish(*topic, request);
  ASSERT_TRUE(published.ok()) << published.status().ToString();

  for (const QueuePtr& q : {a, b}) {
    auto received = ReceiveAll(q);
    ASSERT_EQ(received.size(), 1u);
    json envelope = json::parse(received[0].message->body);
    EXPECT_EQ(envelope["Type"], "Notification");
    EXPECT_EQ(envelope["MessageId"], published->message_id);
    EXPECT_EQ(envelope["TopicArn"], *topic);
    EXPECT_EQ(envelope["Subject"], "stock");
    EXPECT_EQ(envelope["Message"], "out of donuts");
    EXPECT_EQ(envelope["Timestamp"], "2023-11-14T22:13:20.000Z");
    EXPECT_EQ(envelope["SignatureVersion"], "1");
    EXPECT_EQ(envelope["SigningCertURL"],
              std::string(kBaseUrl) + "/" + signer_->certificate_file_name());
    EXPECT_EQ(envelope["MessageAttributes"]["blob"], json({{"Type", "Binary"}, {"Value", "AAH/"}}));
    EXPECT_EQ(envelope["MessageAttributes"]["count"], json({{"Type", "Number"}, {"Value", "0"}}));
    EXPECT_TRUE(received[0].message->attributes.empty());
    EXPECT_TRUE(SignatureVerifies(*signer_, envelope));
    envelope["Message"] = "out of bagels";  // a changed message no longer verifies
    EXPECT_FALSE(SignatureVerifies(*signer_, envelope));
  }
  auto received = ReceiveAll(raw);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].message->body, "out of donuts");
  EXPECT_EQ(received[0].message->attributes, request.attributes);
}

// Storage that is behind refuses a publish whole, before any queue has it; an admitted
// publish reaches every queue (its queue sends do not ask again one by one).
TEST_F(TopicServiceTest, APublishIsThrottledWholeOrDeliveredWhole) {
  auto topic = CreateTopic("busy");
  ASSERT_TRUE(topic.ok());
  std::vector<QueuePtr> queues;
  for (const std::string name : {"q1", "q2", "q3"}) {
    queues.push_back(CreateQueue(name));
    ASSERT_TRUE(Subscribe(*topic, "sqs", QueueArn(name)).ok());
  }
  engine_.ThrottleNewDataAfter(1);
  ASSERT_TRUE(Publish(*topic, "admitted").ok());
  EXPECT_EQ(Publish(*topic, "refused").status().code(), ErrorCode::kThrottling);
  engine_.ThrottleNewDataAfter(-1);
  for (const QueuePtr& q : queues) {
    auto received = ReceiveAll(q);
    ASSERT_EQ(received.size(), 1u);
    EXPECT_EQ(json::parse(received[0].message->body)["Message"], "admitted");
  }
}

TEST_F(TopicServiceTest, SignatureVersionTwoSignsWithSha256) {
  auto topic = CreateTopic("v2", {{"SignatureVersion", "2"}});
  ASSERT_TRUE(topic.ok());
  QueuePtr q = CreateQueue("q");
  ASSERT_TRUE(Subscribe(*topic, "sqs", QueueArn("q")).ok());
  ASSERT_TRUE(Publish(*topic, "hello").ok());
  auto received = ReceiveAll(q);
  ASSERT_EQ(received.size(), 1u);
  json envelope = json::parse(received[0].message->body);
  EXPECT_EQ(envelope["SignatureVersion"], "2");
  EXPECT_FALSE(envelope.contains("Subject"));
  EXPECT_TRUE(SignatureVerifies(*signer_, envelope));
}

TEST_F(TopicServiceTest, FilterPoliciesChooseTheQueues) {
  auto topic = CreateTopic("events");
  QueuePtr red = CreateQueue("red");
  QueuePtr big = CreateQueue("big");
  QueuePtr body = CreateQueue("body");
  ASSERT_TRUE(Subscribe(*topic, "sqs", QueueArn("red"),
                        {{"FilterPolicy", R"({"color":["red"]})"}, {"RawMessageDelivery", "true"}})
                  .ok());
  auto big_sub = Subscribe(*topic, "sqs", QueueArn("big"), {{"RawMessageDelivery", "true"}});
  ASSERT_TRUE(big_sub.ok());
  ASSERT_TRUE(SetSubscriptionAttribute(big_sub->subscription_arn, "FilterPolicy",
                                       R"({"size":[{"numeric":[">=",100]}]})")
                  .ok());
  ASSERT_TRUE(Subscribe(*topic, "sqs", QueueArn("body"),
                        {{"FilterPolicy", R"({"order":{"kind":["donut"]}})"},
                         {"FilterPolicyScope", "MessageBody"},
                         {"RawMessageDelivery", "true"}})
                  .ok());

  ASSERT_TRUE(Publish(*topic, "1", {{"color", StringValue("String", "red")}}).ok());
  ASSERT_TRUE(
      Publish(*topic, "2",
              {{"color", StringValue("String", "blue")}, {"size", StringValue("Number", "150")}})
          .ok());
  ASSERT_TRUE(Publish(*topic, R"({"order":{"kind":"donut"}})").ok());
  ASSERT_TRUE(Publish(*topic, R"({"order":{"kind":"bagel"}})").ok());

  auto bodies = [&](const QueuePtr& q) {
    std::vector<std::string> out;
    for (const auto& m : ReceiveAll(q)) out.push_back(m.message->body);
    return out;
  };
  EXPECT_EQ(bodies(red), std::vector<std::string>{"1"});
  EXPECT_EQ(bodies(big), std::vector<std::string>{"2"});
  EXPECT_EQ(bodies(body), std::vector<std::string>{R"({"order":{"kind":"donut"}})"});

  // An invalid policy is refused with AWS's texts: Subscribe words it as an attribute reason.
  Status set = SetSubscriptionAttribute(big_sub->subscription_arn, "FilterPolicy",
                                        R"({"size":[{"numeric":["!=",1]}]})");
  EXPECT_EQ(set.message(),
            "Invalid parameter: FilterPolicy: Unrecognized numeric range operator: !=");
  auto subscribed = Subscribe(*topic, "sqs", QueueArn("other"), {{"FilterPolicy", "[1]"}});
  ASSERT_FALSE(subscribed.ok());
  EXPECT_EQ(subscribed.status().code(), ErrorCode::kInvalidParameter);
  EXPECT_EQ(subscribed.status().message().rfind(
                "Invalid parameter: Attributes Reason: FilterPolicy: ", 0),
            0u)
      << subscribed.status().message();
}

TEST_F(TopicServiceTest, FifoTopicsKeepGroupOrderAndDeduplicate) {
  auto topic =
      CreateTopic("orders.fifo", {{"FifoTopic", "true"}, {"ContentBasedDeduplication", "true"}});
  ASSERT_TRUE(topic.ok()) << topic.status().ToString();
  QueuePtr q = CreateQueue("orders.fifo", {{"FifoQueue", "true"}});
  ASSERT_TRUE(Subscribe(*topic, "sqs", QueueArn("orders.fifo")).ok());
  std::string last_sequence;
  PublishResult first;
  for (int i = 0; i < 6; ++i) {
    PublishRequest request;
    request.message = "m" + std::to_string(i);
    request.message_group_id = i % 2 == 0 ? "even" : "odd";
    auto r = Publish(*topic, request);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->sequence_number.size(), 20u);
    EXPECT_GT(r->sequence_number, last_sequence);
    last_sequence = r->sequence_number;
    if (i == 0) first = *r;
  }
  PublishRequest duplicate;
  duplicate.message = "m0";  // same content: the same deduplication id
  duplicate.message_group_id = "even";
  auto again = Publish(*topic, duplicate);
  ASSERT_TRUE(again.ok());
  // Answered with the original's ids, as AWS does.
  EXPECT_EQ(again->message_id, first.message_id);
  EXPECT_EQ(again->sequence_number, first.sequence_number);

  std::map<std::string, std::vector<std::string>> by_group;
  for (const auto& m : ReceiveAll(q)) {
    json envelope = json::parse(m.message->body);
    EXPECT_TRUE(envelope.contains("SequenceNumber"));
    EXPECT_FALSE(envelope.contains("Signature"));  // FIFO notifications are not signed
    by_group[m.message->message_group_id].push_back(envelope["Message"]);
    EXPECT_EQ(m.message->message_deduplication_id,
              Sha256Hex(envelope["Message"].get<std::string>()));
  }
  // Received in order within each group (the queue hands one group's messages out in order
  // as each is deleted; ReceiveAll leaves them in flight, so at most the heads come at once).
  for (const auto& [group, messages] : by_group) {
    EXPECT_TRUE(std::is_sorted(messages.begin(), messages.end())) << group;
  }

  PublishRequest no_group;
  no_group.message = "x";
  auto refused = Publish(*topic, no_group);
  EXPECT_EQ(refused.status().message(),
            "Invalid parameter: The MessageGroupId parameter is required for FIFO topics");
  auto standard = CreateTopic("standard");
  auto fifo_to_standard = Subscribe(*standard, "sqs", QueueArn("orders.fifo"));
  EXPECT_EQ(fifo_to_standard.status().message(),
            "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be "
            "subscribed to standard SNS topics");
}

TEST_F(TopicServiceTest, ValidatesNamesMessagesAndStructures) {
  EXPECT_EQ(CreateTopic("bad name").status().message(), "Invalid parameter: Topic Name");
  EXPECT_EQ(CreateTopic("x.fifo").status().message(), "Invalid parameter: Topic Name");
  EXPECT_EQ(CreateTopic(std::string(257, 'a')).status().message(), "Invalid parameter: Topic Name");
  auto topic = CreateTopic("t", {{"DisplayName", "T"}});
  ASSERT_TRUE(topic.ok());
  EXPECT_EQ(*CreateTopic("t"), *topic);  // idempotent without attributes
  EXPECT_EQ(CreateTopic("t", {{"DisplayName", "U"}}).status().message(),
            "Invalid parameter: Attributes Reason: Topic already exists with different attributes");

  EXPECT_EQ(Publish(*topic, "").status().message(), "Invalid parameter: Empty message");
  EXPECT_EQ(Publish(*topic, std::string(262145, 'x')).status().message(),
            "Invalid parameter: Message too long");
  EXPECT_TRUE(Publish(*topic, std::string(262144, 'x')).ok());
  PublishRequest structured;
  structured.message_structure = "json";
  structured.message = R"({"sqs":"for queues"})";
  EXPECT_EQ(Publish(*topic, structured).status().message(),
            "Invalid parameter: Message Structure - No default entry in JSON message body");
  structured.message = "{";
  EXPECT_EQ(Publish(*topic, structured).status().message(),
            "Invalid parameter: Message Structure - JSON message body failed to parse");
  PublishRequest with_dedup;
  with_dedup.message = "m";
  with_dedup.message_deduplication_id = "d";
  EXPECT_EQ(Publish(*topic, with_dedup).status().message(),
            "Invalid parameter: MessageDeduplicationId Reason: The request includes "
            "MessageDeduplicationId parameter that is not valid for this topic type");
  auto empty_value = Publish(*topic, "m", {{"a", StringValue("String", "")}});
  EXPECT_EQ(empty_value.status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(empty_value.status().message(),
            "The message attribute 'a' must contain non-empty message attribute value for "
            "message attribute type 'String'.");
  EXPECT_EQ(Publish("arn:aws:sns:us-east-1:000000000000:missing", "m").status().code(),
            ErrorCode::kNotFound);
}

TEST_F(TopicServiceTest, MessageStructureJsonGivesQueuesTheirEntry) {
  auto topic = CreateTopic("structured");
  QueuePtr q = CreateQueue("q");
  ASSERT_TRUE(Subscribe(*topic, "sqs", QueueArn("q"), {{"RawMessageDelivery", "true"}}).ok());
  PublishRequest request;
  request.message_structure = "json";
  request.message = R"({"default":"everyone","sqs":"queues only"})";
  ASSERT_TRUE(Publish(*topic, request).ok());
  auto received = ReceiveAll(q);
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].message->body, "queues only");
}

TEST_F(TopicServiceTest, SubscriptionsToOtherProtocolsWaitForConfirmation) {
  auto topic = CreateTopic("alerts");
  auto http = Subscribe(*topic, "http", "http://127.0.0.1:8080/hook");
  ASSERT_TRUE(http.ok());
  EXPECT_TRUE(http->pending);
  auto again = Subscribe(*topic, "http", "http://127.0.0.1:8080/hook");
  EXPECT_EQ(again->subscription_arn, http->subscription_arn);  // idempotent
  EXPECT_EQ(Subscribe(*topic, "http", "ftp://x").status().message(),
            "Invalid parameter: Endpoint must match the specified protocol");
  EXPECT_EQ(Subscribe(*topic, "carrier-pigeon", "x").status().message(),
            "Invalid parameter: Amazon SNS does not support this protocol string: carrier-pigeon");
  EXPECT_EQ(Subscribe(*topic, "email", "nobody").status().message(),
            "Invalid parameter: Email address");
  auto attributes = topics_->GetTopicAttributes(*topic);
  EXPECT_EQ(attributes->at("SubscriptionsPending"), "1");
  EXPECT_EQ(attributes->at("SubscriptionsConfirmed"), "0");
  auto sub = topics_->GetSubscriptionAttributes(http->subscription_arn);
  EXPECT_EQ(sub->at("PendingConfirmation"), "true");
  EXPECT_EQ(SetSubscriptionAttribute(http->subscription_arn, "RawMessageDelivery", "yes").message(),
            "Invalid parameter: RawMessageDelivery: Invalid value [yes]. Must be true or false.");
  EXPECT_EQ(SetSubscriptionAttribute(http->subscription_arn, "Color", "red").message(),
            "Invalid parameter: AttributeName");
}

TEST_F(TopicServiceTest, OnlyEndpointsOfOthersWaitForConfirmation) {
  auto topic = CreateTopic("confirmations");
  for (const char* protocol : {"sms", "application", "lambda", "firehose"}) {
    std::string endpoint = std::string("endpoint-of-") + protocol;
    if (protocol == std::string("sms")) endpoint = "+821012345678";
    if (protocol == std::string("application")) {
      endpoint = "arn:aws:sns:us-east-1:000000000000:endpoint/GCM/app/1";
    }
    auto sub = Subscribe(*topic, protocol, endpoint);
    ASSERT_TRUE(sub.ok()) << protocol;
    EXPECT_FALSE(sub->pending) << protocol;  // AWS confirms these at once
  }
  auto email = Subscribe(*topic, "email", "someone@example.com");
  ASSERT_TRUE(email.ok());
  EXPECT_TRUE(email->pending);
}

TEST_F(TopicServiceTest, PublishRefusesReservedAndUnlabelledAttributes) {
  auto topic = CreateTopic("attribute-rules");
  const std::string reserved =
      "Message attribute names starting with 'AWS.' or 'Amazon.' are reserved for use by Amazon.";
  for (const char* name : {"AWS.custom", "aws.Custom", "Amazon.x", "AMAZON.y"}) {
    auto refused = Publish(*topic, "m", {{name, StringValue("String", "v")}});
    EXPECT_EQ(refused.status().code(), ErrorCode::kInvalidParameterValue) << name;
    EXPECT_EQ(refused.status().message(), reserved) << name;
  }
  // The names SNS itself reads on Publish stay allowed; so do names merely containing AWS.
  for (const char* name : {"AWS.SNS.SMS.SenderID", "AWS.SNS.SMS.SMSType", "AWS.MM.SMS.EntityId",
                           "AWS.SNS.MOBILE.APNS.PRIORITY", "MyAWS.x", "AWSx"}) {
    EXPECT_TRUE(Publish(*topic, "m", {{name, StringValue("String", "v")}}).ok()) << name;
  }
  EXPECT_EQ(Publish(*topic, "m", {{"a", StringValue("String.", "v")}}).status().code(),
            ErrorCode::kInvalidParameterValue);
  EXPECT_TRUE(Publish(*topic, "m", {{"a", StringValue("String.x", "v")}}).ok());
  EXPECT_EQ(Publish(*topic, "m", {{"a", StringValue("", "v")}}).status().code(),
            ErrorCode::kValidationError);
}

TEST_F(TopicServiceTest, FifoSubscriptionOfAFifoTopicNeedsAFifoDeadLetterQueue) {
  auto topic = CreateTopic("orders.fifo", {{"FifoTopic", "true"}});
  CreateQueue("fifo-sub.fifo", {{"FifoQueue", "true"}});
  CreateQueue("standard-sub");
  const std::string standard_dlq =
      R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq"})";
  const std::string fifo_dlq =
      R"({"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq.fifo"})";
  const std::string rule =
      "RedrivePolicy: must use a FIFO queue as DLQ for a FIFO Subscription to a FIFO Topic.";
  EXPECT_EQ(Subscribe(*topic, "sqs", QueueArn("fifo-sub.fifo"), {{"RedrivePolicy", standard_dlq}})
                .status()
                .message(),
            "Invalid parameter: Attributes Reason: " + rule);
  auto fifo_sub = Subscribe(*topic, "sqs", QueueArn("fifo-sub.fifo"));
  ASSERT_TRUE(fifo_sub.ok());
  EXPECT_EQ(
      SetSubscriptionAttribute(fifo_sub->subscription_arn, "RedrivePolicy", standard_dlq).message(),
      "Invalid parameter: " + rule);
  EXPECT_TRUE(SetSubscriptionAttribute(fifo_sub->subscription_arn, "RedrivePolicy", fifo_dlq).ok());
  // Other attributes stay editable whatever the stored RedrivePolicy.
  EXPECT_TRUE(
      SetSubscriptionAttribute(fifo_sub->subscription_arn, "RawMessageDelivery", "true").ok());
  auto standard_sub = Subscribe(*topic, "sqs", QueueArn("standard-sub"));
  ASSERT_TRUE(standard_sub.ok());
  EXPECT_TRUE(
      SetSubscriptionAttribute(standard_sub->subscription_arn, "RedrivePolicy", standard_dlq).ok());
}

TEST_F(TopicServiceTest, TopicsAndSubscriptionsSurviveARestart) {
  auto topic = CreateTopic("durable", {{"DisplayName", "D"}}, {{"team", "ops"}});
  QueuePtr q = CreateQueue("q");
  auto sub = Subscribe(*topic, "sqs", QueueArn("q"),
                       {{"FilterPolicy", R"({"k":["v"]})"}, {"RawMessageDelivery", "true"}});
  ASSERT_TRUE(sub.ok());

  // A new service over the same storage: what a restart sees.
  topics_ = std::make_unique<TopicService>(engine_, clock_, queues_, *signer_);
  ASSERT_TRUE(topics_->Load().ok());
  EXPECT_EQ(topics_->ListTopics(kRegion, kAccount), std::vector<std::string>{*topic});
  EXPECT_EQ(topics_->GetTopicAttributes(*topic)->at("DisplayName"), "D");
  EXPECT_EQ(topics_->ListTagsForResource(*topic)->at("team"), "ops");
  ASSERT_TRUE(Publish(*topic, "no", {{"k", StringValue("String", "w")}}).ok());
  ASSERT_TRUE(Publish(*topic, "yes", {{"k", StringValue("String", "v")}}).ok());
  auto received = ReceiveAll(q);
  ASSERT_EQ(received.size(), 1u);  // the reloaded filter policy still applies
  EXPECT_EQ(received[0].message->body, "yes");

  Status deleted(ErrorCode::kInternal, "not called");
  topics_->DeleteTopic(*topic, [&](Status s) { deleted = s; });
  ASSERT_TRUE(deleted.ok());
  topics_ = std::make_unique<TopicService>(engine_, clock_, queues_, *signer_);
  ASSERT_TRUE(topics_->Load().ok());
  EXPECT_TRUE(topics_->ListTopics(kRegion, kAccount).empty());
  EXPECT_TRUE(topics_->ListSubscriptions(kRegion, kAccount).empty());
}

}  // namespace
}  // namespace postbox::core
