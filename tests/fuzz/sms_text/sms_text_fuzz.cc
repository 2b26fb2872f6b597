// Fuzzes what the SMS providers read from outside: the text publishers send (SENS's EUC-KR
// measuring and cutting, over arbitrary bytes), phone numbers, and providers' error bodies
// (Twilio's JSON). Beyond not crashing: a prepared SENS text fits an LMS, is at most as long as
// the input plus one "?" per replaced byte, and is SMS exactly when it fits 90 bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "channels/sms/phone_number.h"
#include "channels/sms/sens_provider.h"
#include "channels/sms/twilio_provider.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace postbox::channels;
  const std::string input(reinterpret_cast<const char*>(data), size);
  SensText text = PrepareSensText(input);
  if (text.euc_kr_bytes > SensProvider::kMaxLmsBytes) std::abort();
  if ((text.type == "SMS") != (text.euc_kr_bytes <= SensProvider::kMaxSmsBytes)) std::abort();
  if (text.content.size() > input.size()) std::abort();
  if (IsE164(input)) {
    const std::string code = CountryCallingCode(input);
    if (code.empty() || code.size() > 3) std::abort();
    if ("+" + code + NationalNumber(input) != input) std::abort();
  }
  for (int status : {0, 400, 429, 503}) (void)ClassifyTwilioAnswer({status, "", input, -1});
  return 0;
}
