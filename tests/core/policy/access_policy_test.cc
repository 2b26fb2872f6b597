// The policy language and the access decision: parsing (what is refused and why) and the
// authorization table the security issue asks for: allow, deny, wildcards, explicit deny over
// allow, default deny, cross-account grants through a resource policy, and the "let this SNS
// topic send to this queue" policy with aws:SourceArn.
#include "core/policy/access_policy.h"

#include <gtest/gtest.h>

#include <string>

#include "core/policy/access_check.h"

namespace postbox::core::policy {
namespace {

constexpr char kOwner[] = "111111111111";
constexpr char kOther[] = "222222222222";
constexpr char kQueue[] = "arn:aws:sqs:us-east-1:111111111111:orders";
constexpr char kTopic[] = "arn:aws:sns:us-east-1:222222222222:events";

std::shared_ptr<const Document> Parse(const std::string& text,
                                      PolicyKind kind = PolicyKind::kIdentity) {
  auto parsed = ParsePolicy(text, kind);
  EXPECT_TRUE(parsed.ok()) << parsed.status().message() << " in " << text;
  return parsed.ok() ? *parsed : nullptr;
}

std::string RefusalOf(const std::string& text, PolicyKind kind = PolicyKind::kIdentity) {
  auto parsed = ParsePolicy(text, kind);
  EXPECT_FALSE(parsed.ok()) << text;
  return parsed.ok() ? "" : parsed.status().message();
}

Decision KeyMay(const Document* key_policy, const char* action, const char* resource,
                const Document* resource_policy = nullptr, const char* account = kOwner) {
  Caller caller;
  caller.account = account;
  caller.policy = key_policy;
  Target target;
  target.action = action;
  target.resource = resource;
  target.resource_account =
      std::string_view(resource).find(kOther) != std::string_view::npos ? kOther : kOwner;
  target.resource_policy = resource_policy;
  return Authorize(caller, target);
}

TEST(WildcardMatch, StarAndQuestionMark) {
  EXPECT_TRUE(WildcardMatch("*", "", false));
  EXPECT_TRUE(WildcardMatch("sqs:*", "sqs:SendMessage", false));
  EXPECT_TRUE(WildcardMatch("sqs:Send*", "sqs:SendMessage", false));
  EXPECT_TRUE(WildcardMatch("sqs:*Message", "sqs:SendMessage", false));
  EXPECT_TRUE(WildcardMatch("a*b*c", "axxbyyc", false));
  EXPECT_TRUE(WildcardMatch("a?c", "abc", false));
  EXPECT_FALSE(WildcardMatch("a?c", "ac", false));
  EXPECT_FALSE(WildcardMatch("sqs:Send*", "sqs:ReceiveMessage", false));
  EXPECT_FALSE(WildcardMatch("SQS:sendmessage", "sqs:SendMessage", false));
  EXPECT_TRUE(WildcardMatch("SQS:sendmessage", "sqs:SendMessage", true));
  // Backtracking is bounded: a long near-miss finishes quickly.
  EXPECT_FALSE(WildcardMatch("*a*a*a*a*a*b", std::string(5000, 'a'), false));
}

TEST(ParsePolicy, AcceptsTheShapesAwsWrites) {
  auto single = Parse(R"({"Version":"2012-10-17","Statement":{"Effect":"Allow",
      "Action":"sqs:*","Resource":"*"}})");
  ASSERT_TRUE(single);
  EXPECT_EQ(single->statements.size(), 1u);
  auto queue_policy = Parse(R"({"Version":"2012-10-17","Id":"q/SQSDefaultPolicy","Statement":[
      {"Sid":"a","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::222222222222:root",
       "333333333333"]},"Action":["SQS:SendMessage"],"Resource":"arn:aws:sqs:us-east-1:1:q"}]})",
                            PolicyKind::kResource);
  ASSERT_TRUE(queue_policy);
  const Principal& principal = queue_policy->statements[0].principal;
  EXPECT_EQ(principal.accounts, (std::vector<std::string>{kOther, "333333333333"}));
}

TEST(ParsePolicy, RefusesWhatItCannotEvaluateAsMeant) {
  EXPECT_NE(RefusalOf("not json").find("not a JSON object"), std::string::npos);
  EXPECT_NE(RefusalOf(R"({"Version":"2012-10-17"})").find("no Statement"), std::string::npos);
  EXPECT_NE(
      RefusalOf(R"({"Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]})").find("Effect"),
      std::string::npos);
  EXPECT_NE(RefusalOf(R"({"Statement":[{"Effect":"Allow","Resource":"*"}]})").find("Action"),
            std::string::npos);
  EXPECT_NE(RefusalOf(R"({"Statement":[{"Effect":"Allow","Action":"SendMessage",
                           "Resource":"*"}]})")
                .find("service:operation"),
            std::string::npos);
  EXPECT_NE(RefusalOf(R"({"Statement":[{"Effect":"Allow","Principal":"*","Action":"*",
                           "Resource":"*"}]})")
                .find("cannot name a Principal"),
            std::string::npos);
  EXPECT_NE(RefusalOf(R"({"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]})",
                      PolicyKind::kResource)
                .find("needs a Principal"),
            std::string::npos);
  EXPECT_NE(RefusalOf(R"({"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"1"},
                           "Action":"*","Resource":"*"}]})",
                      PolicyKind::kResource)
                .find("NotPrincipal"),
            std::string::npos);
  EXPECT_NE(RefusalOf(R"({"Statement":[{"Effect":"Deny","Action":"*","Resource":"*",
                           "Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]})")
                .find("IpAddress"),
            std::string::npos);
  EXPECT_NE(RefusalOf(R"({"Statement":[{"Effect":"Deny","Action":"*","Resource":"*",
                           "Condition":{"StringEquals":{"aws:SourceVpce":"v"}}}]})")
                .find("aws:SourceVpce"),
            std::string::npos);
  EXPECT_NE(RefusalOf(R"({"Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
                           "Condition":{"ForAnyValue:StringEquals":{"aws:SourceArn":"a"}}}]})")
                .find("ForAnyValue"),
            std::string::npos);
  EXPECT_NE(RefusalOf(std::string(kMaxPolicyBytes + 1, ' ')).find("longer"), std::string::npos);
}

TEST(ParsePolicy, RefusesRepeatedMembersVariablesAndOddNullTests) {
  // nlohmann would keep the last "Effect": the Deny would be lost.
  EXPECT_NE(RefusalOf(R"({"Statement":[{"Effect":"Deny","Action":"*","Resource":"*",
                           "Effect":"Allow"}]})")
                .find("Effect appears twice"),
            std::string::npos);
  EXPECT_NE(RefusalOf(R"({"Statement":[],"Statement":[]})").find("twice"), std::string::npos);
  EXPECT_NE(RefusalOf(R"({"Statement":[{"Effect":"Deny","Action":"sqs:*",
                           "Resource":"arn:aws:sqs:*:*:${aws:username}-*"}]})")
                .find("policy variable"),
            std::string::npos);
  EXPECT_NE(RefusalOf(R"({"Statement":[{"Effect":"Deny","Action":"*","Resource":"*",
                           "Condition":{"Null":{"aws:SourceArn":["true","false"]}}}]})")
                .find("\"true\" or \"false\""),
            std::string::npos);
  // The same member name in two different objects is fine.
  EXPECT_TRUE(Parse(R"({"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
                         {"Effect":"Deny","Action":"sqs:Delete*","Resource":"*"}]})"));
}

TEST(Authorize, ANamedAccountGrantsOtherAccountsOnly) {
  // AddPermission writes the account itself as principal: within that account the key's
  // own policy still decides, but a Deny naming the account binds every key of it.
  auto own_account = Parse(R"({"Statement":[{"Effect":"Allow","Principal":{"AWS":
      "arn:aws:iam::111111111111:root"},"Action":"sqs:*","Resource":"*"}]})",
                           PolicyKind::kResource);
  EXPECT_EQ(KeyMay(nullptr, "sqs:SendMessage", kQueue, own_account.get()), Decision::kImplicitDeny);
  auto deny_account = Parse(R"({"Statement":[{"Effect":"Deny","Principal":{"AWS":
      "111111111111"},"Action":"sqs:PurgeQueue","Resource":"*"}]})",
                            PolicyKind::kResource);
  Caller admin;
  admin.account = kOwner;
  admin.admin = true;
  EXPECT_EQ(Authorize(admin, {"sqs:PurgeQueue", kQueue, kOwner, deny_account.get()}),
            Decision::kExplicitDeny);
}

TEST(Authorize, AdminMayDoAnythingInItsAccount) {
  Caller caller;
  caller.account = kOwner;
  caller.admin = true;
  Target target{"sqs:DeleteQueue", kQueue, kOwner, nullptr};
  EXPECT_EQ(Authorize(caller, target), Decision::kAllowed);
}

TEST(Authorize, KeyPolicyAllowsListedActionsOnly) {
  auto policy = Parse(R"({"Statement":[{"Effect":"Allow","Action":["sqs:SendMessage",
      "sqs:Get*"],"Resource":"arn:aws:sqs:us-east-1:111111111111:ord*"}]})");
  EXPECT_EQ(KeyMay(policy.get(), "sqs:SendMessage", kQueue), Decision::kAllowed);
  EXPECT_EQ(KeyMay(policy.get(), "sqs:GetQueueAttributes", kQueue), Decision::kAllowed);
  EXPECT_EQ(KeyMay(policy.get(), "SQS:sendmessage", kQueue), Decision::kAllowed);  // any case
  EXPECT_EQ(KeyMay(policy.get(), "sqs:DeleteQueue", kQueue), Decision::kImplicitDeny);
  EXPECT_EQ(KeyMay(policy.get(), "sqs:SendMessage", "arn:aws:sqs:us-east-1:111111111111:other"),
            Decision::kImplicitDeny);
  EXPECT_EQ(KeyMay(nullptr, "sqs:SendMessage", kQueue), Decision::kImplicitDeny);  // default
}

TEST(Authorize, ExplicitDenyWinsOverAllow) {
  auto policy = Parse(R"({"Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"},
      {"Effect":"Deny","Action":"sqs:Delete*","Resource":"*"}]})");
  EXPECT_EQ(KeyMay(policy.get(), "sqs:SendMessage", kQueue), Decision::kAllowed);
  EXPECT_EQ(KeyMay(policy.get(), "sqs:DeleteQueue", kQueue), Decision::kExplicitDeny);
  // A queue's own Deny also beats an admin key.
  auto queue_policy = Parse(R"({"Statement":[{"Effect":"Deny","Principal":"*",
      "Action":"sqs:PurgeQueue","Resource":"*"}]})",
                            PolicyKind::kResource);
  Caller admin;
  admin.account = kOwner;
  admin.admin = true;
  EXPECT_EQ(Authorize(admin, {"sqs:PurgeQueue", kQueue, kOwner, queue_policy.get()}),
            Decision::kExplicitDeny);
}

TEST(Authorize, NotActionAndNotResource) {
  auto policy = Parse(R"({"Statement":[{"Effect":"Allow","NotAction":"sqs:Delete*",
      "NotResource":"arn:aws:sqs:*:*:secret-*"}]})");
  EXPECT_EQ(KeyMay(policy.get(), "sqs:SendMessage", kQueue), Decision::kAllowed);
  EXPECT_EQ(KeyMay(policy.get(), "sqs:DeleteMessage", kQueue), Decision::kImplicitDeny);
  EXPECT_EQ(KeyMay(policy.get(), "sqs:SendMessage", "arn:aws:sqs:us-east-1:1:secret-x"),
            Decision::kImplicitDeny);
}

TEST(Authorize, AnotherAccountNeedsTheResourcePolicyAndItsOwnKey) {
  const std::string theirs = "arn:aws:sqs:us-east-1:222222222222:inbox";
  auto grant = Parse(R"({"Statement":[{"Effect":"Allow","Principal":{"AWS":
      "arn:aws:iam::111111111111:root"},"Action":"sqs:SendMessage",
      "Resource":"arn:aws:sqs:us-east-1:222222222222:inbox"}]})",
                     PolicyKind::kResource);
  Caller admin;
  admin.account = kOwner;
  admin.admin = true;
  EXPECT_EQ(Authorize(admin, {"sqs:SendMessage", theirs, kOther, nullptr}),
            Decision::kImplicitDeny);
  EXPECT_EQ(Authorize(admin, {"sqs:SendMessage", theirs, kOther, grant.get()}), Decision::kAllowed);
  EXPECT_EQ(Authorize(admin, {"sqs:ReceiveMessage", theirs, kOther, grant.get()}),
            Decision::kImplicitDeny);
  // The grant names account 1111...: a third account gets nothing from it.
  Caller stranger = admin;
  stranger.account = "333333333333";
  EXPECT_EQ(Authorize(stranger, {"sqs:SendMessage", theirs, kOther, grant.get()}),
            Decision::kImplicitDeny);
  // A key whose own policy does not allow the action cannot use the grant either.
  auto only_receive = Parse(R"({"Statement":[{"Effect":"Allow","Action":"sqs:ReceiveMessage",
      "Resource":"*"}]})");
  Caller limited;
  limited.account = kOwner;
  limited.policy = only_receive.get();
  EXPECT_EQ(Authorize(limited, {"sqs:SendMessage", theirs, kOther, grant.get()}),
            Decision::kImplicitDeny);
  // Within the resource's own account, a resource-policy Allow is enough.
  auto everyone = Parse(R"({"Statement":[{"Effect":"Allow","Principal":"*",
      "Action":"sqs:SendMessage","Resource":"*"}]})",
                        PolicyKind::kResource);
  Caller nothing;
  nothing.account = kOwner;
  EXPECT_EQ(Authorize(nothing, {"sqs:SendMessage", kQueue, kOwner, everyone.get()}),
            Decision::kAllowed);
}

TEST(Authorize, TopicMaySendToAQueueOfAnotherAccountWithSourceArn) {
  const std::string inbox = "arn:aws:sqs:us-east-1:111111111111:inbox";
  auto queue_policy = Parse(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow",
      "Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage",
      "Resource":"arn:aws:sqs:us-east-1:111111111111:inbox",
      "Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:222222222222:events"}}}]})",
                            PolicyKind::kResource);
  Caller topic;
  topic.service = "sns.amazonaws.com";
  topic.source_arn = kTopic;
  EXPECT_EQ(Authorize(topic, {"sqs:SendMessage", inbox, kOwner, queue_policy.get()}),
            Decision::kAllowed);
  EXPECT_EQ(Authorize(topic, {"sqs:SendMessage", inbox, kOwner, nullptr}), Decision::kImplicitDeny);
  Caller other_topic = topic;
  other_topic.source_arn = "arn:aws:sns:us-east-1:222222222222:other";
  EXPECT_EQ(Authorize(other_topic, {"sqs:SendMessage", inbox, kOwner, queue_policy.get()}),
            Decision::kImplicitDeny);
  // ArnLike: each part on its own, so "*" does not reach across ':'.
  auto like = Parse(R"({"Statement":[{"Effect":"Allow","Principal":"*","Action":"sqs:*",
      "Resource":"*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:222222222222:*"}}}]})",
                    PolicyKind::kResource);
  EXPECT_EQ(Authorize(other_topic, {"sqs:SendMessage", inbox, kOwner, like.get()}),
            Decision::kAllowed);
  auto too_wide = Parse(R"({"Statement":[{"Effect":"Allow","Principal":"*","Action":"sqs:*",
      "Resource":"*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:events"}}}]})",
                        PolicyKind::kResource);
  EXPECT_EQ(Authorize(topic, {"sqs:SendMessage", inbox, kOwner, too_wide.get()}),
            Decision::kImplicitDeny);
  // A topic of the queue's own account is let in unless the queue denies it.
  Caller own_topic;
  own_topic.service = "sns.amazonaws.com";
  own_topic.source_arn = "arn:aws:sns:us-east-1:111111111111:mine";
  EXPECT_EQ(Authorize(own_topic, {"sqs:SendMessage", inbox, kOwner, nullptr}), Decision::kAllowed);
  auto deny_sns = Parse(R"({"Statement":[{"Effect":"Deny","Principal":{"Service":
      "sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"*"}]})",
                        PolicyKind::kResource);
  EXPECT_EQ(Authorize(own_topic, {"sqs:SendMessage", inbox, kOwner, deny_sns.get()}),
            Decision::kExplicitDeny);
}

TEST(Authorize, ATopicSubscribedByAnotherAccountNeedsTheQueuesGrant) {
  // Account 2222... was granted Subscribe on a topic of 1111... and subscribed a queue of
  // 1111... to it: the queue must allow the topic itself, or the topic cannot write there.
  Caller topic;
  topic.service = "sns.amazonaws.com";
  topic.source_arn = "arn:aws:sns:us-east-1:111111111111:mine";
  topic.acting_for = kOther;
  EXPECT_EQ(Authorize(topic, {"sqs:SendMessage", kQueue, kOwner, nullptr}),
            Decision::kImplicitDeny);
  auto grant = Parse(R"({"Statement":[{"Effect":"Allow","Principal":{"Service":
      "sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"*","Condition":{"ArnEquals":
      {"aws:SourceArn":"arn:aws:sns:us-east-1:111111111111:mine"}}}]})",
                     PolicyKind::kResource);
  EXPECT_EQ(Authorize(topic, {"sqs:SendMessage", kQueue, kOwner, grant.get()}), Decision::kAllowed);
  topic.acting_for = kOwner;  // subscribed by the owner itself
  EXPECT_EQ(Authorize(topic, {"sqs:SendMessage", kQueue, kOwner, nullptr}), Decision::kAllowed);
}

TEST(Authorize, ConditionsOnAbsentKeysAndSecureTransport) {
  auto https_only = Parse(R"({"Statement":[{"Effect":"Deny","Principal":"*","Action":"*",
      "Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]})",
                          PolicyKind::kResource);
  Caller caller;
  caller.account = kOwner;
  caller.admin = true;
  EXPECT_EQ(Authorize(caller, {"sqs:SendMessage", kQueue, kOwner, https_only.get()}),
            Decision::kExplicitDeny);
  caller.secure_transport = true;
  EXPECT_EQ(Authorize(caller, {"sqs:SendMessage", kQueue, kOwner, https_only.get()}),
            Decision::kAllowed);
  // A direct call has no aws:SourceArn: a positive test fails, IfExists and a negated test
  // hold, Null says it is absent.
  auto conditions = [](const char* condition) {
    return Parse(std::string(R"({"Statement":[{"Effect":"Allow","Principal":"*","Action":"*",
        "Resource":"*","Condition":)") +
                     condition + "}]}",
                 PolicyKind::kResource);
  };
  Caller plain;
  plain.account = kOwner;
  auto check = [&](const char* condition) {
    auto document = conditions(condition);
    return Authorize(plain, {"sqs:SendMessage", kQueue, kOwner, document.get()});
  };
  EXPECT_EQ(check(R"({"ArnEquals":{"aws:SourceArn":"arn:aws:sns:*:*:*"}})"),
            Decision::kImplicitDeny);
  EXPECT_EQ(check(R"({"ArnEqualsIfExists":{"aws:SourceArn":"arn:aws:sns:*:*:*"}})"),
            Decision::kAllowed);
  EXPECT_EQ(check(R"({"ArnNotEquals":{"aws:SourceArn":"arn:aws:sns:*:*:*"}})"), Decision::kAllowed);
  EXPECT_EQ(check(R"({"Null":{"aws:SourceArn":"true"}})"), Decision::kAllowed);
  EXPECT_EQ(check(R"({"Null":{"aws:SourceArn":"false"}})"), Decision::kImplicitDeny);
  EXPECT_EQ(check(R"({"StringEquals":{"aws:PrincipalAccount":["1","111111111111"]}})"),
            Decision::kAllowed);
  EXPECT_EQ(check(R"({"StringNotEquals":{"aws:PrincipalAccount":"111111111111"}})"),
            Decision::kImplicitDeny);
}

TEST(Authorize, DefaultTopicPolicyGrantsNoOtherAccount) {
  // AWS's default topic policy: everyone, on condition that AWS:SourceOwner is the owner.
  auto default_policy = Parse(R"({"Version":"2008-10-17","Id":"__default_policy_ID",
      "Statement":[{"Sid":"__default_statement_ID","Effect":"Allow","Principal":{"AWS":"*"},
      "Action":["SNS:Publish","SNS:Subscribe"],"Resource":"arn:aws:sns:us-east-1:222222222222:events",
      "Condition":{"StringEquals":{"AWS:SourceOwner":"222222222222"}}}]})",
                              PolicyKind::kResource);
  Caller stranger;
  stranger.account = kOwner;
  stranger.admin = true;
  EXPECT_EQ(Authorize(stranger, {"sns:Publish", kTopic, kOther, default_policy.get()}),
            Decision::kImplicitDeny);
}

}  // namespace
}  // namespace postbox::core::policy
