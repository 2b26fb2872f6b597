// The delivery channels the outbox uses: HTTP/S endpoints (HttpChannel), email addresses
// (EmailChannel, for SNS's email and email-json protocols) and SES mail (RawMailChannel).
#pragma once

#include <string>

#include "base/clock.h"
#include "channels/http_sender.h"
#include "channels/mail_sender.h"
#include "core/topic/delivery_channel.h"

namespace postbox::core {

// SMTP sessions each mail channel keeps open with the relay at once: enough to keep a relay
// busy, few enough not to trip its per-client limits or hold many whole messages in flight.
inline constexpr int kMaxRelaySessions = 4;

// POSTs the document with SNS's headers; a 2xx answer delivers it, anything else is retried
// (AWS retries every failed HTTP/S delivery under the delivery policy). Chat webhooks
// (PostboxChatFormat) get their service's payload instead.
class HttpChannel final : public DeliveryChannel {
 public:
  explicit HttpChannel(channels::HttpSender& sender) : sender_(sender) {}
  void Deliver(const Delivery& delivery, std::function<void(DeliveryOutcome)> done) override;

 private:
  // A subscription with PostboxChatFormat: the chat service's payload, and its answers judged
  // (a deleted webhook or a bot removed from the chat is permanent; 429 waits as asked).
  void DeliverToChat(const Delivery& delivery, std::function<void(DeliveryOutcome)> done);

  channels::HttpSender& sender_;
};

// Mails the document to the subscriber's address through the SMTP relay: `email`
// subscriptions get the message as text, `email-json` ones the JSON envelope. The relay's 5xx
// refusals (no such mailbox) are permanent; 4xx and no answer are retried.
class EmailChannel final : public DeliveryChannel {
 public:
  // `from`: the sender of SNS's mails, "address" or "Name <address>" (email.from).
  EmailChannel(channels::MailSender& sender, const Clock& clock, std::string from)
      : sender_(sender), clock_(clock), from_(std::move(from)) {}
  void Deliver(const Delivery& delivery, std::function<void(DeliveryOutcome)> done) override;
  int max_in_flight() const override { return kMaxRelaySessions; }

 private:
  channels::MailSender& sender_;
  const Clock& clock_;
  const std::string from_;
};

// Sends a finished message (SES's SendEmail and SendRawEmail, SES verification mails) as it
// is: `endpoint` is the envelope sender, `recipients` the envelope recipients. The same SMTP
// reply rules as EmailChannel.
class RawMailChannel final : public DeliveryChannel {
 public:
  explicit RawMailChannel(channels::MailSender& sender) : sender_(sender) {}
  void Deliver(const Delivery& delivery, std::function<void(DeliveryOutcome)> done) override;
  int max_in_flight() const override { return kMaxRelaySessions; }

 private:
  channels::MailSender& sender_;
};

}  // namespace postbox::core
