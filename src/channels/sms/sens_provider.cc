#include "channels/sms/sens_provider.h"

#include <iconv.h>

#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "channels/sms/phone_number.h"

namespace postbox::channels {
namespace {

using nlohmann::json;

// The length of the UTF-8 sequence starting with `lead` (1 for a stray byte).
size_t SequenceLength(unsigned char lead) {
  if (lead >= 0xf0 && lead < 0xf8) return 4;
  if (lead >= 0xe0) return lead < 0xf0 ? 3 : 1;
  if (lead >= 0xc0) return 2;
  return 1;
}

// The bytes `character` (one UTF-8 character) takes in Korean's code page, 0 if it has none.
// CP949 is EUC-KR with the Hangul syllables EUC-KR lacks; each takes 2 bytes as in EUC-KR.
size_t KoreanBytes(iconv_t cd, std::string_view character) {
  char in_buffer[8];
  char out_buffer[16];
  character.copy(in_buffer, sizeof(in_buffer));
  char* in = in_buffer;
  char* out = out_buffer;
  size_t in_left = character.size();
  size_t out_left = sizeof(out_buffer);
  iconv(cd, nullptr, nullptr, nullptr, nullptr);  // a fresh state for each character
  if (iconv(cd, &in, &in_left, &out, &out_left) == size_t(-1) || in_left != 0) return 0;
  return sizeof(out_buffer) - out_left;
}

}  // namespace

SensText PrepareSensText(const std::string& utf8) {
  SensText text;
  iconv_t cd = iconv_open("CP949", "UTF-8");
  for (size_t i = 0; i < utf8.size();) {
    const auto lead = static_cast<unsigned char>(utf8[i]);
    size_t length = std::min(SequenceLength(lead), utf8.size() - i);
    std::string_view character(utf8.data() + i, length);
    size_t bytes = lead < 0x80 ? 1 : (cd == iconv_t(-1) ? 0 : KoreanBytes(cd, character));
    if (bytes == 0) {
      character = "?";  // no Korean code page character: SENS would refuse the whole message
      bytes = 1;
    }
    if (text.euc_kr_bytes + bytes > SensProvider::kMaxLmsBytes) {
      text.cut = true;
      break;
    }
    text.content.append(character);
    text.euc_kr_bytes += bytes;
    i += length;
  }
  if (cd != iconv_t(-1)) iconv_close(cd);
  text.type = text.euc_kr_bytes > SensProvider::kMaxSmsBytes ? "LMS" : "SMS";
  return text;
}

std::string SensSignature(const std::string& method, const std::string& target,
                          const std::string& timestamp_ms, const std::string& access_key,
                          const std::string& secret_key) {
  const std::string to_sign = method + " " + target + "\n" + timestamp_ms + "\n" + access_key;
  return Base64Encode(HmacSha256(secret_key, to_sign));
}

SensProvider::SensProvider(HttpSender& sender, const Clock& clock, SensOptions options)
    : sender_(sender), clock_(clock), options_(std::move(options)) {}

void SensProvider::Send(const SmsMessage& message, std::function<void(SmsResult)> done) {
  if (options_.service_id.empty() || options_.access_key.empty() || options_.secret_key.empty() ||
      options_.from.empty()) {
    // Retried, so that messages wait while an operator completes the configuration.
    return done({SmsVerdict::kRetry, 0,
                 "SENS is not configured (sms.sens.service_id, access_key, secret_key, from)"});
  }
  const std::string country = CountryCallingCode(message.to);
  std::string to = NationalNumber(message.to);
  if (country == "82") to = "0" + to;  // 01012345678, as Korean numbers are written
  SensText text = PrepareSensText(message.text);
  json body{{"type", text.type},       {"contentType", "COMM"},
            {"countryCode", country},  {"from", options_.from},
            {"content", text.content}, {"messages", json::array({json{{"to", to}}})}};
  const std::string target = "/sms/v2/services/" + options_.service_id + "/messages";
  const std::string timestamp = std::to_string(clock_.NowMillis());
  std::string endpoint = options_.endpoint;
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  OutboundRequest request;
  request.url = endpoint + target;
  request.operator_configured = true;  // the provider's API, from the configuration
  request.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  request.headers = {
      {"Content-Type", "application/json; charset=utf-8"},
      {"x-ncp-apigw-timestamp", timestamp},
      {"x-ncp-iam-access-key", options_.access_key},
      {"x-ncp-apigw-signature-v2",
       SensSignature("POST", target, timestamp, options_.access_key, options_.secret_key)},
  };
  const bool cut = text.cut;
  sender_.Exchange(std::move(request), [done = std::move(done), cut](OutboundResponse r) {
    SmsResult result = ClassifyHttpAnswer(r);
    if (result.verdict == SmsVerdict::kSent && cut) {
      result.error = "sent cut to " + std::to_string(kMaxLmsBytes) + " EUC-KR bytes";
    }
    done(std::move(result));
  });
}

}  // namespace postbox::channels
