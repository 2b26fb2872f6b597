// FCM without a network: the SNS-to-FCM message translation, the service-account JWT (its
// RS256 signature checked with the public key), the token cache, and how FCM's answers are
// judged. A fake HttpSender answers the token and send requests.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <deque>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/encoding.h"
#include "channels/push/fcm_client.h"
#include "channels/push/fcm_message.h"

namespace postbox::channels {
namespace {

using nlohmann::json;

// A new RSA key: (private PEM, EVP_PKEY for verifying).
std::pair<std::string, std::shared_ptr<EVP_PKEY>> NewKey() {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return {std::string(data, length), std::shared_ptr<EVP_PKEY>(key, &EVP_PKEY_free)};
}

std::string FromBase64Url(std::string text) {
  for (char& c : text) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (text.size() % 4) text.push_back('=');
  return Base64Decode(text).value_or("");
}

json Parsed(const Result<std::string>& r) { return json::parse(*r); }

TEST(FcmMessage, PlainTextIsShownAndSentAsDefault) {
  json m = Parsed(FcmMessageFromSns("", "타이머"));
  EXPECT_EQ(m["notification"]["body"], "타이머");
  EXPECT_EQ(m["data"]["default"], "타이머");
}

TEST(FcmMessage, LegacyGcmIsTranslated) {
  json m = Parsed(FcmMessageFromSns(
      R"({"notification":{"title":"T","body":"B","sound":"ping","badge":3},)"
      R"("data":{"n":7,"s":"x","o":{"a":1}},"time_to_live":60,"priority":"high"})",
      "fallback"));
  EXPECT_EQ(m["notification"], json({{"title", "T"}, {"body", "B"}}));
  EXPECT_EQ(m["android"]["notification"], json({{"sound", "ping"}, {"badge", "3"}}));
  EXPECT_EQ(m["data"], json({{"n", "7"}, {"s", "x"}, {"o", R"({"a":1})"}}));
  EXPECT_EQ(m["android"]["ttl"], "60s");
  EXPECT_EQ(m["android"]["priority"], "HIGH");
}

TEST(FcmMessage, V1MessageIsKeptButNotItsToken) {
  json m = Parsed(FcmMessageFromSns(
      R"({"fcmV1Message":{"message":{"token":"other","data":{"k":1},"apns":{"x":1}}}})", ""));
  EXPECT_FALSE(m.contains("token"));
  EXPECT_EQ(m["data"]["k"], "1");
  EXPECT_EQ(m["apns"]["x"], 1);
}

TEST(FcmMessage, BadGcmEntriesAreRefused) {
  EXPECT_EQ(FcmMessageFromSns("not json", "x").status().code(), ErrorCode::kInvalidParameter);
  EXPECT_FALSE(FcmMessageFromSns(R"({"fcmV1Message":{}})", "x").ok());
  EXPECT_FALSE(FcmMessageFromSns(R"({"collapse_key":"c"})", "x").ok());
}

TEST(ServiceAccountTest, ParsesAndRefuses) {
  auto account = ParseServiceAccount(
      R"({"client_email":"a@b","private_key":"pem","project_id":"p","token_uri":"http://127.0.0.1:1/t"})");
  ASSERT_TRUE(account.ok());
  EXPECT_EQ(account->token_uri, "http://127.0.0.1:1/t");
  auto defaulted =
      ParseServiceAccount(R"({"client_email":"a@b","private_key":"k","project_id":"p"})");
  EXPECT_EQ(defaulted->token_uri, "https://oauth2.googleapis.com/token");
  EXPECT_FALSE(ParseServiceAccount("AIzaSy-legacy-key").ok());
  EXPECT_FALSE(ParseServiceAccount(R"({"client_email":"a@b"})").ok());
  EXPECT_FALSE(
      ParseServiceAccount(
          R"({"client_email":"a","private_key":"k","project_id":"p","token_uri":"file:///x"})")
          .ok());
}

TEST(ServiceAccountTest, JwtIsSignedWithRs256) {
  auto [pem, key] = NewKey();
  ServiceAccount account{"svc@p.iam", pem, "p", "https://oauth2.example/token"};
  auto jwt = MakeServiceAccountJwt(account, 1700000000);
  ASSERT_TRUE(jwt.ok());
  const size_t first = jwt->find('.');
  const size_t second = jwt->rfind('.');
  EXPECT_EQ(json::parse(FromBase64Url(jwt->substr(0, first))),
            json({{"alg", "RS256"}, {"typ", "JWT"}}));
  json claims = json::parse(FromBase64Url(jwt->substr(first + 1, second - first - 1)));
  EXPECT_EQ(claims["iss"], "svc@p.iam");
  EXPECT_EQ(claims["aud"], "https://oauth2.example/token");
  EXPECT_EQ(claims["scope"], "https://www.googleapis.com/auth/firebase.messaging");
  EXPECT_EQ(claims["exp"].get<int64_t>() - claims["iat"].get<int64_t>(), 3600);
  const std::string signed_part = jwt->substr(0, second);
  const std::string signature = FromBase64Url(jwt->substr(second + 1));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  ASSERT_EQ(EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()), 1);
  EXPECT_EQ(
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), reinterpret_cast<const unsigned char*>(signed_part.data()),
                       signed_part.size()),
      1);
  account.private_key = "not a key";
  EXPECT_FALSE(MakeServiceAccountJwt(account, 1).ok());
}

TEST(FcmAnswers, AreJudged) {
  auto judge = [](int status, const std::string& code, const std::string& message = "") {
    json body{{"error",
               {{"code", status},
                {"message", message},
                {"details",
                 {{{"@type", "type.googleapis.com/google.firebase.fcm.v1.FcmError"},
                   {"errorCode", code}}}}}}};
    return ClassifyFcmAnswer({status, "", body.dump(), -1}).verdict;
  };
  EXPECT_EQ(judge(404, "UNREGISTERED"), PushVerdict::kDeadToken);
  EXPECT_EQ(judge(403, "SENDER_ID_MISMATCH"), PushVerdict::kDeadToken);
  EXPECT_EQ(judge(400, "INVALID_ARGUMENT",
                  "The registration token is not a valid FCM registration token"),
            PushVerdict::kDeadToken);
  EXPECT_EQ(judge(400, "INVALID_ARGUMENT", "Invalid JSON payload"), PushVerdict::kPermanent);
  EXPECT_EQ(judge(429, "QUOTA_EXCEEDED"), PushVerdict::kRetry);
  EXPECT_EQ(judge(503, "UNAVAILABLE"), PushVerdict::kRetry);
  EXPECT_EQ(judge(401, "THIRD_PARTY_AUTH_ERROR"), PushVerdict::kRetry);
  EXPECT_EQ(ClassifyFcmAnswer({200, "", "{}", -1}).verdict, PushVerdict::kSent);
  EXPECT_EQ(ClassifyFcmAnswer({0, "refused", "", -1}).verdict, PushVerdict::kRetry);
  EXPECT_EQ(ClassifyFcmAnswer({kCancelled, "stop", "", -1}).verdict, PushVerdict::kNotTried);
  EXPECT_EQ(ClassifyFcmAnswer({503, "", "garbage", 30}).retry_after_seconds, 30);
}

// Answers token requests and sends from queues the test fills.
class ScriptedSender final : public HttpSender {
 public:
  void Post(OutboundRequest, OutboundDone done) override { done(500, ""); }
  void Exchange(OutboundRequest request, ResponseDone done) override {
    requests.push_back(request);
    OutboundResponse answer = answers.front();
    answers.pop_front();
    done(answer);
  }
  std::deque<OutboundResponse> answers;
  std::vector<OutboundRequest> requests;
};

TEST(FcmClientTest, FetchesATokenOnceAndSendsV1Messages) {
  auto [pem, key] = NewKey();
  ServiceAccount account{"svc@p.iam", pem, "proj", "http://127.0.0.1:1/token"};
  ScriptedSender sender;
  ManualClock clock;
  FcmClient fcm(sender, clock, "http://127.0.0.1:2/");
  sender.answers = {{200, "", R"({"access_token":"tok-1","expires_in":3600})", -1},
                    {200, "", R"({"name":"projects/proj/messages/1"})", -1},
                    {200, "", R"({"name":"projects/proj/messages/2"})", -1}};
  PushResult result;
  fcm.Send(account, "device-1", R"({"data":{"a":"b"}})", [&](PushResult r) { result = r; });
  EXPECT_EQ(result.verdict, PushVerdict::kSent);
  fcm.Send(account, "device-2", "{}", [&](PushResult r) { result = r; });
  EXPECT_EQ(result.verdict, PushVerdict::kSent);
  ASSERT_EQ(sender.requests.size(), 3u);
  EXPECT_EQ(sender.requests[0].url, "http://127.0.0.1:1/token");
  EXPECT_EQ(sender.requests[0].body.rfind(
                "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=", 0),
            0u);
  EXPECT_EQ(sender.requests[1].url, "http://127.0.0.1:2/v1/projects/proj/messages:send");
  json body = json::parse(sender.requests[1].body);
  EXPECT_EQ(body["message"]["token"], "device-1");
  EXPECT_EQ(body["message"]["data"]["a"], "b");
  EXPECT_EQ(fcm.token_requests(), 1u);
  for (const auto& [name, value] : sender.requests[2].headers) {
    if (name == "Authorization") {
      EXPECT_EQ(value, "Bearer tok-1");
    }
  }

  // Close to expiry the token is renewed; a 401 forgets it.
  clock.AdvanceSeconds(3590);
  sender.answers = {{200, "", R"({"access_token":"tok-2","expires_in":3600})", -1},
                    {401, "", "{}", -1},
                    {200, "", R"({"access_token":"tok-3","expires_in":3600})", -1},
                    {200, "", "{}", -1}};
  fcm.Send(account, "device-1", "{}", [&](PushResult r) { result = r; });
  EXPECT_EQ(result.verdict, PushVerdict::kRetry);
  fcm.Send(account, "device-1", "{}", [&](PushResult r) { result = r; });
  EXPECT_EQ(result.verdict, PushVerdict::kSent);
  EXPECT_EQ(fcm.token_requests(), 3u);

  // A token service that refuses: retried, nothing sent.
  clock.AdvanceSeconds(7200);
  sender.answers = {{400, "", R"({"error":"invalid_grant"})", -1}};
  fcm.Send(account, "device-1", "{}", [&](PushResult r) { result = r; });
  EXPECT_EQ(result.verdict, PushVerdict::kRetry);
  EXPECT_NE(result.error.find("OAuth token request"), std::string::npos);
}

}  // namespace
}  // namespace postbox::channels
