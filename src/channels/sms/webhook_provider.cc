#include "channels/sms/webhook_provider.h"

#include <nlohmann/json.hpp>

#include "base/encoding.h"

namespace postbox::channels {

std::string WebhookSignature(const std::string& secret, const std::string& timestamp_seconds,
                             const std::string& body) {
  return "v1=" + HexEncode(HmacSha256(secret, timestamp_seconds + "." + body));
}

WebhookSmsProvider::WebhookSmsProvider(HttpSender& sender, const Clock& clock,
                                       WebhookSmsOptions options)
    : sender_(sender), clock_(clock), options_(std::move(options)) {}

void WebhookSmsProvider::Send(const SmsMessage& message, std::function<void(SmsResult)> done) {
  if (options_.url.empty()) {
    return done({SmsVerdict::kRetry, 0, "the SMS webhook is not configured (sms.webhook.url)"});
  }
  OutboundRequest request;
  request.url = options_.url;
  request.operator_configured = true;  // the provider's API, from the configuration
  request.body = nlohmann::json{{"messageId", message.message_id},
                                {"phoneNumber", message.to},
                                {"message", message.text},
                                {"senderId", message.sender_id},
                                {"smsType", message.sms_type}}
                     .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  request.headers = {{"Content-Type", "application/json; charset=utf-8"}};
  if (!options_.secret.empty()) {
    const std::string timestamp = std::to_string(clock_.NowMillis() / 1000);
    request.headers.emplace_back("X-Postbox-Timestamp", timestamp);
    request.headers.emplace_back("X-Postbox-Signature",
                                 WebhookSignature(options_.secret, timestamp, request.body));
  }
  sender_.Exchange(std::move(request), [done = std::move(done)](OutboundResponse r) {
    SmsResult result = ClassifyHttpAnswer(r);
    if (r.status == 410) result.verdict = SmsVerdict::kOptedOut;
    done(std::move(result));
  });
}

}  // namespace postbox::channels
