#include "channels/sms/twilio_provider.h"

#include <nlohmann/json.hpp>
#include <set>

#include "base/encoding.h"

namespace postbox::channels {
namespace {

using nlohmann::json;

constexpr int kRecipientOptedOut = 21610;
// Numbers no retry can reach: invalid To, unroutable, not SMS-capable, landline, unverified
// on a trial account, a region the account may not send to.
const std::set<int>& PermanentCodes() {
  static const std::set<int> codes = {21211, 21408, 21608, 21612, 21614, 21635};
  return codes;
}
// Failures an operator mends (credentials, the sender number) or that pass: retried.
const std::set<int>& TransientCodes() {
  static const std::set<int> codes = {20003, 20429, 21606};
  return codes;
}

}  // namespace

SmsResult ClassifyTwilioAnswer(const OutboundResponse& r) {
  SmsResult result = ClassifyHttpAnswer(r);
  if (result.verdict == SmsVerdict::kSent || result.verdict == SmsVerdict::kNotTried ||
      r.status == 0) {
    return result;
  }
  json error = json::parse(r.body, nullptr, false);
  auto code = error.is_object() ? error.find("code") : error.end();
  if (code == error.end() || !code->is_number_integer()) return result;
  const int twilio_code = code->get<int>();
  auto message = error.find("message");
  result.error =
      "Twilio error " + std::to_string(twilio_code) + ": " +
      (message != error.end() && message->is_string() ? AnswerExcerpt(message->get<std::string>())
                                                      : std::string());
  if (twilio_code == kRecipientOptedOut) {
    result.verdict = SmsVerdict::kOptedOut;
  } else if (PermanentCodes().count(twilio_code)) {
    result.verdict = SmsVerdict::kPermanent;
  } else if (TransientCodes().count(twilio_code)) {
    result.verdict = SmsVerdict::kRetry;
  }
  return result;
}

TwilioProvider::TwilioProvider(HttpSender& sender, TwilioOptions options)
    : sender_(sender), options_(std::move(options)) {}

void TwilioProvider::Send(const SmsMessage& message, std::function<void(SmsResult)> done) {
  if (options_.account_sid.empty() || options_.auth_token.empty() || options_.from.empty()) {
    return done({SmsVerdict::kRetry, 0,
                 "Twilio is not configured (sms.twilio.account_sid, auth_token, from)"});
  }
  std::string endpoint = options_.endpoint;
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  const bool service = options_.from.rfind("MG", 0) == 0;
  OutboundRequest request;
  request.operator_configured = true;  // the provider's API, from the configuration
  request.url =
      endpoint + "/2010-04-01/Accounts/" + PercentEncode(options_.account_sid) + "/Messages.json";
  request.body = "To=" + PercentEncode(message.to) +
                 (service ? "&MessagingServiceSid=" : "&From=") + PercentEncode(options_.from) +
                 "&Body=" + PercentEncode(message.text);
  request.headers = {
      {"Content-Type", "application/x-www-form-urlencoded"},
      {"Authorization", "Basic " + Base64Encode(options_.account_sid + ":" + options_.auth_token)},
  };
  sender_.Exchange(std::move(request),
                   [done = std::move(done)](OutboundResponse r) { done(ClassifyTwilioAnswer(r)); });
}

}  // namespace postbox::channels
