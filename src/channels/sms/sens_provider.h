// SensProvider: Naver Cloud SENS SMS v2.
//
// POST {endpoint}/sms/v2/services/{service_id}/messages, signed with the account's API key:
// x-ncp-apigw-signature-v2 = base64(HMAC-SHA256(secret_key, "POST {path}\n{timestamp}\n
// {access_key}")), where timestamp is the epoch milliseconds also sent as
// x-ncp-apigw-timestamp and path is the request target exactly as sent (the service id's
// colons stay literal). SENS counts lengths in EUC-KR bytes: up to 90 is an SMS, longer an LMS
// (up to 2,000 bytes; SENS would cut longer text silently, postbox cuts it at a character
// boundary and says so in the log). Characters SENS cannot carry (emoji) become "?".
// Korean numbers are sent in their domestic form (0 + national number), others as the
// national number with countryCode.
#pragma once

#include <string>

#include "base/clock.h"
#include "channels/sms/sms_provider.h"

namespace postbox::channels {

struct SensOptions {
  std::string endpoint = "https://sens.apigw.ntruss.com";
  std::string service_id;  // ncp:sms:kr:<digits>:<name>
  std::string access_key;
  std::string secret_key;  // never logged
  std::string from;        // the registered caller number
};

// What SENS gets for a text: the text with uncarried characters replaced, its EUC-KR length,
// and the message type that length calls for.
struct SensText {
  std::string content;
  size_t euc_kr_bytes = 0;
  std::string type;  // SMS | LMS
  bool cut = false;  // longer than an LMS may be: cut
};
SensText PrepareSensText(const std::string& utf8);

// The signature SENS checks, for `method` and `target` (path plus query, as sent).
std::string SensSignature(const std::string& method, const std::string& target,
                          const std::string& timestamp_ms, const std::string& access_key,
                          const std::string& secret_key);

class SensProvider final : public SmsProvider {
 public:
  static constexpr size_t kMaxSmsBytes = 90;
  static constexpr size_t kMaxLmsBytes = 2000;

  SensProvider(HttpSender& sender, const Clock& clock, SensOptions options);
  std::string_view name() const override { return "sens"; }
  void Send(const SmsMessage& message, std::function<void(SmsResult)> done) override;

 private:
  HttpSender& sender_;
  const Clock& clock_;
  const SensOptions options_;
};

}  // namespace postbox::channels
