// SMS provider clients without a network: E.164 parsing, SENS's signature and message types,
// how Twilio's and plain HTTP answers are judged, and the webhook signature. A fake
// HttpSender captures the requests the providers build.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/encoding.h"
#include "channels/sms/phone_number.h"
#include "channels/sms/sens_provider.h"
#include "channels/sms/twilio_provider.h"
#include "channels/sms/webhook_provider.h"

namespace postbox::channels {
namespace {

using nlohmann::json;

// Keeps the last request and answers it with a fixed response.
class CapturingSender final : public HttpSender {
 public:
  void Post(OutboundRequest request, OutboundDone done) override {
    last = std::move(request);
    done(answer.status, answer.error);
  }
  void Exchange(OutboundRequest request, ResponseDone done) override {
    last = std::move(request);
    done(answer);
  }
  std::string Header(const std::string& name) const {
    for (const auto& [n, v] : last.headers) {
      if (n == name) return v;
    }
    return "";
  }
  OutboundRequest last;
  OutboundResponse answer{202, "", "{}", -1};
};

SmsResult SendOne(SmsProvider& provider, const std::string& to, const std::string& text) {
  SmsResult out;
  provider.Send({to, text, "", "Transactional", "id-1"}, [&](SmsResult r) { out = r; });
  return out;
}

TEST(PhoneNumber, E164) {
  EXPECT_TRUE(IsE164("+821012345678"));
  EXPECT_TRUE(IsE164("+15551234567"));
  EXPECT_FALSE(IsE164("821012345678"));       // no +
  EXPECT_FALSE(IsE164("+0101234"));           // no country code starts with 0
  EXPECT_FALSE(IsE164("+82 10 1234 5678"));   // spaces
  EXPECT_FALSE(IsE164("+1234567890123456"));  // 16 digits
  EXPECT_FALSE(IsE164("+1"));
}

TEST(PhoneNumber, CountryCallingCodes) {
  EXPECT_EQ(CountryCallingCode("+821012345678"), "82");
  EXPECT_EQ(CountryCallingCode("+15551234567"), "1");
  EXPECT_EQ(CountryCallingCode("+79161234567"), "7");
  EXPECT_EQ(CountryCallingCode("+447700900123"), "44");
  EXPECT_EQ(CountryCallingCode("+85291234567"), "852");  // Hong Kong: three digits
  EXPECT_EQ(CountryCallingCode("+3531234567"), "353");   // Ireland, not Spain's 34
  EXPECT_EQ(NationalNumber("+821012345678"), "1012345678");
  EXPECT_EQ(NationalNumber("+85291234567"), "91234567");
}

TEST(Encoding, HmacSha256MatchesRfc4231) {
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(PercentEncode("+82 1/한"), "%2B82%201%2F%ED%95%9C");
}

TEST(Sens, SignatureAsNaverDocumentsIt) {
  // base64(HMAC-SHA256("SK", "POST <target>\n<timestamp>\nAK")), the colons literal.
  EXPECT_EQ(SensSignature("POST", "/sms/v2/services/ncp:sms:kr:1:x/messages", "1700000000000", "AK",
                          "SK"),
            "dKgGHQobjUCZBXlJ4nTqENGwf2erRQxmAUU5NqBv0JU=");
}

TEST(Sens, MessageTypeByEucKrLength) {
  EXPECT_EQ(PrepareSensText(std::string(90, 'a')).type, "SMS");
  EXPECT_EQ(PrepareSensText(std::string(91, 'a')).type, "LMS");
  std::string korean;
  for (int i = 0; i < 45; ++i) korean += "가";  // 2 bytes each in EUC-KR
  SensText text = PrepareSensText(korean);
  EXPECT_EQ(text.euc_kr_bytes, 90u);
  EXPECT_EQ(text.type, "SMS");
  EXPECT_EQ(PrepareSensText(korean + "a").type, "LMS");
  // A syllable only CP949 has still counts 2 bytes; an emoji has no Korean code: "?".
  EXPECT_EQ(PrepareSensText("똠").euc_kr_bytes, 2u);
  EXPECT_EQ(PrepareSensText("ok 🚨").content, "ok ?");
}

TEST(Sens, TextBeyondAnLmsIsCutBetweenCharacters) {
  std::string korean;
  for (int i = 0; i < 1001; ++i) korean += "가";
  SensText text = PrepareSensText("a" + korean);
  EXPECT_TRUE(text.cut);
  EXPECT_EQ(text.euc_kr_bytes, 1999u);  // the next character (2 bytes) would pass 2000
  EXPECT_EQ(text.content.size(), 1 + 999 * 3u);
}

TEST(Sens, BuildsTheSignedRequest) {
  CapturingSender sender;
  ManualClock clock(1700000000000);
  SensProvider sens(sender, clock,
                    {"http://127.0.0.1:1/", "ncp:sms:kr:1:x", "AK", "SK", "0212345678"});
  SmsResult result = SendOne(sens, "+821012345678", "안녕");
  EXPECT_EQ(result.verdict, SmsVerdict::kSent);
  EXPECT_EQ(sender.last.url, "http://127.0.0.1:1/sms/v2/services/ncp:sms:kr:1:x/messages");
  EXPECT_EQ(sender.Header("x-ncp-apigw-timestamp"), "1700000000000");
  EXPECT_EQ(sender.Header("x-ncp-iam-access-key"), "AK");
  EXPECT_EQ(sender.Header("x-ncp-apigw-signature-v2"),
            "dKgGHQobjUCZBXlJ4nTqENGwf2erRQxmAUU5NqBv0JU=");
  json body = json::parse(sender.last.body);
  EXPECT_EQ(body["type"], "SMS");
  EXPECT_EQ(body["countryCode"], "82");
  EXPECT_EQ(body["from"], "0212345678");
  EXPECT_EQ(body["content"], "안녕");
  EXPECT_EQ(body["messages"][0]["to"], "01012345678");
  // Abroad: the national number with its country code.
  SendOne(sens, "+85291234567", "hi");
  body = json::parse(sender.last.body);
  EXPECT_EQ(body["countryCode"], "852");
  EXPECT_EQ(body["messages"][0]["to"], "91234567");
}

TEST(Sens, AnswersAreJudged) {
  CapturingSender sender;
  ManualClock clock(0);
  SensProvider sens(sender, clock, {"http://x", "s", "AK", "SK", "1"});
  for (auto [status, verdict] : {std::pair{400, SmsVerdict::kPermanent},
                                 {403, SmsVerdict::kPermanent},
                                 {404, SmsVerdict::kPermanent},
                                 {401, SmsVerdict::kRetry},  // signature or clock: mendable
                                 {429, SmsVerdict::kRetry},
                                 {500, SmsVerdict::kRetry},
                                 {0, SmsVerdict::kRetry},
                                 {kCancelled, SmsVerdict::kNotTried}}) {
    sender.answer = {status, status <= 0 ? "no answer" : "", "{\"status\":\"x\"}", -1};
    EXPECT_EQ(SendOne(sens, "+821012345678", "x").verdict, verdict) << status;
  }
  SensProvider unconfigured(sender, clock, {"http://x", "", "", "", ""});
  EXPECT_EQ(SendOne(unconfigured, "+821012345678", "x").verdict, SmsVerdict::kRetry);
}

TEST(Twilio, BuildsTheFormWithBasicAuth) {
  CapturingSender sender;
  sender.answer = {201, "", R"({"sid":"SM1","status":"queued"})", -1};
  TwilioProvider twilio(sender, {"http://127.0.0.1:1", "AC1", "token", "+15005550006"});
  EXPECT_EQ(SendOne(twilio, "+15551234567", "hi & bye").verdict, SmsVerdict::kSent);
  EXPECT_EQ(sender.last.url, "http://127.0.0.1:1/2010-04-01/Accounts/AC1/Messages.json");
  EXPECT_EQ(sender.last.body, "To=%2B15551234567&From=%2B15005550006&Body=hi%20%26%20bye");
  EXPECT_EQ(sender.Header("Authorization"), "Basic " + Base64Encode("AC1:token"));
  TwilioProvider service(sender, {"http://x", "AC1", "token", "MG123"});
  SendOne(service, "+15551234567", "x");
  EXPECT_NE(sender.last.body.find("&MessagingServiceSid=MG123&"), std::string::npos);
}

TEST(Twilio, ErrorCodesDecide) {
  auto judge = [](int status, const std::string& body) {
    return ClassifyTwilioAnswer({status, "", body, -1}).verdict;
  };
  EXPECT_EQ(judge(400, R"({"code":21610,"message":"STOP"})"), SmsVerdict::kOptedOut);
  EXPECT_EQ(judge(400, R"({"code":21211,"message":"invalid To"})"), SmsVerdict::kPermanent);
  EXPECT_EQ(judge(400, R"({"code":21614,"message":"not mobile"})"), SmsVerdict::kPermanent);
  EXPECT_EQ(judge(400, R"({"code":21606,"message":"From cannot send"})"), SmsVerdict::kRetry);
  EXPECT_EQ(judge(429, R"({"code":20429,"message":"Too Many Requests"})"), SmsVerdict::kRetry);
  EXPECT_EQ(judge(401, R"({"code":20003})"), SmsVerdict::kRetry);
  EXPECT_EQ(judge(503, "not json"), SmsVerdict::kRetry);
  EXPECT_EQ(judge(400, "not json"), SmsVerdict::kPermanent);
  EXPECT_EQ(judge(201, R"({"sid":"SM1"})"), SmsVerdict::kSent);
  SmsResult r = ClassifyTwilioAnswer({429, "", R"({"code":20429})", 7});
  EXPECT_EQ(r.retry_after_seconds, 7);
}

TEST(Webhook, SignsTheBodyAndTakes410AsOptOut) {
  EXPECT_EQ(WebhookSignature("sec", "1700000000", R"({"a":1})"),
            "v1=365103082ce111aeb294935f093807c734de5f29cca9913ba4cac5eb17f108e3");
  CapturingSender sender;
  ManualClock clock(1700000000123);
  WebhookSmsProvider webhook(sender, clock, {"http://127.0.0.1:1/sms", "sec"});
  sender.answer = {200, "", "", -1};
  EXPECT_EQ(SendOne(webhook, "+447700900123", "hello").verdict, SmsVerdict::kSent);
  EXPECT_EQ(sender.Header("X-Postbox-Timestamp"), "1700000000");
  EXPECT_EQ(sender.Header("X-Postbox-Signature"),
            WebhookSignature("sec", "1700000000", sender.last.body));
  json body = json::parse(sender.last.body);
  EXPECT_EQ(body["phoneNumber"], "+447700900123");
  EXPECT_EQ(body["message"], "hello");
  EXPECT_EQ(body["messageId"], "id-1");
  sender.answer = {410, "", "", -1};
  EXPECT_EQ(SendOne(webhook, "+447700900123", "x").verdict, SmsVerdict::kOptedOut);
  WebhookSmsProvider unsigned_hook(sender, clock, {"http://127.0.0.1:1/sms", ""});
  SendOne(unsigned_hook, "+447700900123", "x");
  EXPECT_EQ(sender.Header("X-Postbox-Signature"), "");
}

}  // namespace
}  // namespace postbox::channels
