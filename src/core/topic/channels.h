// The delivery channels the outbox uses: HTTP/S endpoints (HttpChannel) and email addresses
// (EmailChannel, for SNS's email and email-json protocols).
#pragma once

#include <string>

#include "base/clock.h"
#include "channels/http_sender.h"
#include "channels/mail_sender.h"
#include "core/topic/delivery_channel.h"

namespace postbox::core {

// POSTs the document with SNS's headers; a 2xx answer delivers it, anything else is retried
// (AWS retries every failed HTTP/S delivery under the delivery policy).
class HttpChannel final : public DeliveryChannel {
 public:
  explicit HttpChannel(channels::HttpSender& sender) : sender_(sender) {}
  void Deliver(const Delivery& delivery, std::function<void(DeliveryOutcome)> done) override;

 private:
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

 private:
  channels::MailSender& sender_;
  const Clock& clock_;
  const std::string from_;
};

}  // namespace postbox::core
