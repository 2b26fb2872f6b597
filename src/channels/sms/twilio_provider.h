// TwilioProvider: Twilio's Messages API.
//
// POST {endpoint}/2010-04-01/Accounts/{account_sid}/Messages.json, form-encoded To, From (or
// MessagingServiceSid when `from` is a messaging service, "MG..."), Body, with HTTP Basic
// account_sid:auth_token. 201 is accepted. Twilio names failures by a code in its JSON error
// body: 21610 (the recipient replied STOP) opts the number out; invalid, unroutable, landline
// or not-SMS-capable numbers are permanent; 20429 / HTTP 429 and 5xx are retried; so are
// credential and sender errors (20003, 21606), which an operator can mend.
#pragma once

#include <string>

#include "channels/sms/sms_provider.h"

namespace postbox::channels {

struct TwilioOptions {
  std::string endpoint = "https://api.twilio.com";
  std::string account_sid;
  std::string auth_token;  // never logged
  std::string from;        // an E.164 number or a messaging service sid (MG...)
};

// The verdict for a Twilio answer (status and JSON body).
SmsResult ClassifyTwilioAnswer(const OutboundResponse& response);

class TwilioProvider final : public SmsProvider {
 public:
  TwilioProvider(HttpSender& sender, TwilioOptions options);
  std::string_view name() const override { return "twilio"; }
  void Send(const SmsMessage& message, std::function<void(SmsResult)> done) override;

 private:
  HttpSender& sender_;
  const TwilioOptions options_;
};

}  // namespace postbox::channels
