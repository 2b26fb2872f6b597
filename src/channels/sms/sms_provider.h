// SmsProvider: one SMS gateway (Naver Cloud SENS, Twilio, a generic webhook) seen as "send
// this text to this number, tell me what became of it". Each provider knows its own request
// (signature, body) and which of its answers mean "never again" rather than "later".
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "channels/http_sender.h"

namespace postbox::channels {

struct SmsMessage {
  std::string to;          // E.164
  std::string text;        // UTF-8
  std::string sender_id;   // SNS's AWS.SNS.SMS.SenderID / DefaultSenderID; may be empty
  std::string sms_type;    // Transactional | Promotional
  std::string message_id;  // SNS's MessageId, for providers that take a reference
};

enum class SmsVerdict {
  kSent,       // the provider accepted it
  kRetry,      // transient (rate limited, provider down, credentials being fixed): later
  kPermanent,  // this message can never be sent (invalid or unreachable number)
  kOptedOut,   // the recipient has asked for no more messages (replied STOP)
  kNotTried,   // shutting down: not an attempt
};

struct SmsResult {
  SmsVerdict verdict = SmsVerdict::kRetry;
  int status = 0;                // the provider's HTTP status, 0 when no answer came
  std::string error;             // why, when not sent; never a credential
  int retry_after_seconds = -1;  // the provider asked for this pause (429)
};

class SmsProvider {
 public:
  virtual ~SmsProvider() = default;
  virtual std::string_view name() const = 0;
  // Calls `done` exactly once, possibly on another thread.
  virtual void Send(const SmsMessage& message, std::function<void(SmsResult)> done) = 0;
};

// The verdict HTTP alone gives: 2xx sent; no answer, 408, 429, 5xx and 401 (credentials or
// clock: an operator can mend them while retries go on) retried; any other 4xx permanent.
// Providers refine it from their error bodies.
SmsResult ClassifyHttpAnswer(const OutboundResponse& response);

// The first `limit` bytes of a provider's answer, as printable text for a log line.
std::string AnswerExcerpt(std::string_view body, size_t limit = 200);

}  // namespace postbox::channels
