#include "channels/sms/sms_provider.h"

namespace postbox::channels {

SmsResult ClassifyHttpAnswer(const OutboundResponse& r) {
  SmsResult result;
  result.status = r.status;
  result.retry_after_seconds = r.retry_after_seconds;
  if (r.status == kCancelled) {
    result.verdict = SmsVerdict::kNotTried;
    result.error = r.error;
    return result;
  }
  if (r.status >= 200 && r.status < 300) {
    result.verdict = SmsVerdict::kSent;
    return result;
  }
  result.error =
      r.status == 0 ? r.error : "HTTP " + std::to_string(r.status) + ": " + AnswerExcerpt(r.body);
  const bool transient =
      r.status == 0 || r.status == 401 || r.status == 408 || r.status == 429 || r.status >= 500;
  result.verdict = transient ? SmsVerdict::kRetry : SmsVerdict::kPermanent;
  return result;
}

std::string AnswerExcerpt(std::string_view body, size_t limit) {
  std::string out;
  for (char c : body.substr(0, limit)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f || c == '"' ? ' ' : c);
  }
  return out;
}

}  // namespace postbox::channels
