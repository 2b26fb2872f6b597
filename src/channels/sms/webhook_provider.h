// WebhookSmsProvider: hands each SMS to a URL of the operator's choosing (an in-house gateway,
// a provider postbox has no client for), as JSON:
//   {"messageId": "...", "phoneNumber": "+8210...", "message": "...", "senderId": "...",
//    "smsType": "Transactional"}
// With a secret, the request carries X-Postbox-Timestamp (epoch seconds) and
// X-Postbox-Signature: "v1=" + hex(HMAC-SHA256(secret, timestamp + "." + body)), so the
// receiver can check the sender and refuse replays. Answers: 2xx sent; 410 Gone "this number
// has opted out"; otherwise as ClassifyHttpAnswer (429/5xx/401 retried, other 4xx permanent).
#pragma once

#include <string>

#include "base/clock.h"
#include "channels/sms/sms_provider.h"

namespace postbox::channels {

struct WebhookSmsOptions {
  std::string url;
  std::string secret;  // empty: unsigned; never logged
};

std::string WebhookSignature(const std::string& secret, const std::string& timestamp_seconds,
                             const std::string& body);

class WebhookSmsProvider final : public SmsProvider {
 public:
  WebhookSmsProvider(HttpSender& sender, const Clock& clock, WebhookSmsOptions options);
  std::string_view name() const override { return "webhook"; }
  void Send(const SmsMessage& message, std::function<void(SmsResult)> done) override;

 private:
  HttpSender& sender_;
  const Clock& clock_;
  const WebhookSmsOptions options_;
};

}  // namespace postbox::channels
