#include "core/topic/channels.h"

#include <algorithm>

#include "channels/chat/chat_message.h"
#include "channels/mime_message.h"

namespace postbox::core {
namespace {

constexpr char kUserAgent[] = "Amazon Simple Notification Service Agent";

channels::OutboundRequest ToRequest(const Delivery& d) {
  channels::OutboundRequest request;
  request.url = d.endpoint;
  request.body = d.body;
  request.headers = {
      {"Content-Type", d.content_type},           {"User-Agent", kUserAgent},
      {"x-amz-sns-message-type", d.message_type}, {"x-amz-sns-message-id", d.message_id},
      {"x-amz-sns-topic-arn", d.topic_arn},
  };
  // AWS leaves the subscription out of confirmation requests: it does not exist yet for them.
  if (d.message_type != "SubscriptionConfirmation") {
    request.headers.emplace_back("x-amz-sns-subscription-arn", d.subscription_arn);
  }
  if (d.raw) request.headers.emplace_back("x-amz-sns-rawdelivery", "true");
  return request;
}

// What the relay's answer means for the delivery.
channels::OutboundDone MailOutcome(std::function<void(DeliveryOutcome)> done) {
  return [done = std::move(done)](int status, const std::string& error) {
    if (status == channels::kCancelled) return done({DeliveryVerdict::kNotTried, 0, error});
    if (status >= 200 && status < 300) return done({DeliveryVerdict::kDelivered, status, ""});
    const std::string why = error.empty() ? "SMTP " + std::to_string(status) : error;
    if (channels::IsPermanentSmtpFailure(status, error)) {
      return done({DeliveryVerdict::kPermanentFailure, status, why});
    }
    done({DeliveryVerdict::kRetry, status, why});
  };
}

}  // namespace

void HttpChannel::Deliver(const Delivery& delivery, std::function<void(DeliveryOutcome)> done) {
  // Only URLs (an address must never be read as user@host): no attempt can succeed.
  if (delivery.endpoint.rfind("http://", 0) != 0 && delivery.endpoint.rfind("https://", 0) != 0) {
    return done({DeliveryVerdict::kPermanentFailure, 0, "not an http(s) URL"});
  }
  if (!delivery.chat_format.empty()) return DeliverToChat(delivery, std::move(done));
  sender_.Post(ToRequest(delivery), [done = std::move(done)](int status, const std::string& error) {
    if (status == channels::kCancelled) return done({DeliveryVerdict::kNotTried, 0, error});
    // Retrying cannot help: the address stays refused until the operator allows it.
    if (status == channels::kRefusedByGuard) {
      return done({DeliveryVerdict::kPermanentFailure, 0, error});
    }
    if (status >= 200 && status < 300) return done({DeliveryVerdict::kDelivered, status, ""});
    done({DeliveryVerdict::kRetry, status,
          error.empty() ? "HTTP " + std::to_string(status) : error});
  });
}

void HttpChannel::DeliverToChat(const Delivery& delivery,
                                std::function<void(DeliveryOutcome)> done) {
  channels::ChatRequest chat = channels::BuildChatRequest(delivery.chat_format, delivery.endpoint,
                                                          delivery.subject, delivery.body);
  channels::OutboundRequest request;
  request.url = std::move(chat.url);
  request.body = std::move(chat.body);
  request.headers = {{"Content-Type", "application/json; charset=utf-8"},
                     {"User-Agent", kUserAgent}};
  sender_.Exchange(std::move(request), [format = delivery.chat_format,
                                        done = std::move(done)](channels::OutboundResponse r) {
    if (r.status == channels::kCancelled) return done({DeliveryVerdict::kNotTried, 0, r.error});
    if (r.status == channels::kRefusedByGuard) {
      return done({DeliveryVerdict::kPermanentFailure, 0, r.error});
    }
    channels::ChatVerdict v = channels::ClassifyChatAnswer(format, r);
    if (v.delivered) return done({DeliveryVerdict::kDelivered, r.status, ""});
    if (v.rate_limited) {
      // The service said how long to wait (else a second): waiting is not a failed attempt,
      // so a burst that hits the limit is delivered late, not used up.
      return done(
          {DeliveryVerdict::kNotTried, r.status, v.error, std::max(v.retry_after_seconds, 1)});
    }
    done({v.permanent ? DeliveryVerdict::kPermanentFailure : DeliveryVerdict::kRetry, r.status,
          v.error, v.retry_after_seconds});
  });
}

void EmailChannel::Deliver(const Delivery& delivery, std::function<void(DeliveryOutcome)> done) {
  channels::MailContent content;
  const std::string address = channels::BareAddress(from_);
  // The topic's DisplayName names the sender, as on AWS; else the configured name, if any.
  content.from =
      delivery.from_name.empty() ? from_ : channels::NamedAddress(delivery.from_name, address);
  content.to = {delivery.endpoint};
  content.subject = delivery.subject;
  content.text = delivery.body;
  content.date_ms = clock_.NowMillis();
  content.message_id = delivery.id + "@postbox";
  channels::OutboundMail mail;
  mail.from = address;
  mail.recipients = {delivery.endpoint};
  mail.message = channels::BuildMimeMessage(content);
  sender_.Send(std::move(mail), MailOutcome(std::move(done)));
}

void RawMailChannel::Deliver(const Delivery& delivery, std::function<void(DeliveryOutcome)> done) {
  channels::OutboundMail mail;
  mail.from = delivery.endpoint;
  mail.recipients = delivery.recipients;
  mail.message = delivery.body;
  sender_.Send(std::move(mail), MailOutcome(std::move(done)));
}

}  // namespace postbox::core
