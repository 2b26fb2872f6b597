#include "core/sms/sms_channel.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/topic/logged_endpoint.h"

namespace postbox::core {
namespace {

// At most `limit` bytes of `text`, cut before a UTF-8 character that would not fit.
std::string CutUtf8(const std::string& text, size_t limit) {
  if (text.size() <= limit) return text;
  size_t end = limit;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) --end;
  return text.substr(0, end);
}

}  // namespace

SmsChannel::SmsChannel(SmsService& service, const Clock& clock,
                       channels::SmsProvider* default_provider, std::vector<SmsRoute> routes)
    : service_(service),
      clock_(clock),
      default_provider_(default_provider),
      routes_(std::move(routes)) {
  std::stable_sort(routes_.begin(), routes_.end(), [](const SmsRoute& a, const SmsRoute& b) {
    return a.prefix.size() > b.prefix.size();
  });
  auto add = [this](channels::SmsProvider* p) {
    if (p != nullptr) stats_.emplace(std::string(p->name()), std::make_unique<ProviderStats>());
  };
  add(default_provider_);
  for (const SmsRoute& route : routes_) add(route.provider);
}

void SmsChannel::SetRateLimit(channels::SmsProvider* provider, int per_second) {
  std::lock_guard lock(mu_);
  buckets_[provider].per_second = per_second;
}

channels::SmsProvider* SmsChannel::ProviderFor(const std::string& number) const {
  const std::string_view digits = std::string_view(number).substr(1);
  for (const SmsRoute& route : routes_) {
    if (digits.substr(0, route.prefix.size()) == route.prefix) return route.provider;
  }
  return default_provider_;
}

bool SmsChannel::TakeSlot(channels::SmsProvider* provider) {
  std::lock_guard lock(mu_);
  auto it = buckets_.find(provider);
  if (it == buckets_.end() || it->second.per_second <= 0) return true;
  Bucket& bucket = it->second;
  const int64_t second = clock_.NowMillis() / 1000;
  if (bucket.second != second) bucket = {bucket.per_second, second, 0};
  if (bucket.used >= bucket.per_second) return false;
  ++bucket.used;
  return true;
}

void SmsChannel::Deliver(const Delivery& delivery, std::function<void(DeliveryOutcome)> done) {
  const std::string& scope = delivery.account_scope;
  auto opted_out = service_.IsOptedOut(scope, delivery.endpoint);
  if (!opted_out.ok()) {
    return done({DeliveryVerdict::kPermanentFailure, 0, "not an E.164 phone number"});
  }
  if (*opted_out) {
    refused_opted_out.Add();
    return done({DeliveryVerdict::kPermanentFailure, 0, "the phone number has opted out"});
  }
  if (Status s = service_.CheckSpend(scope); !s.ok()) {
    refused_spend.Add();
    return done({DeliveryVerdict::kPermanentFailure, 0, s.message()});
  }
  channels::SmsProvider* provider = ProviderFor(delivery.endpoint);
  if (provider == nullptr) {
    return done({DeliveryVerdict::kRetry, 0, "no SMS provider for this number (sms.routes)"});
  }
  ProviderStats& stats = *stats_.at(std::string(provider->name()));
  if (!TakeSlot(provider)) {
    stats.rate_limited.Add();
    return done({DeliveryVerdict::kNotTried, 0, "rate limit", /*retry_after_seconds=*/1});
  }
  const SmsSending sending = service_.SendingFor(delivery);
  channels::SmsMessage message{delivery.endpoint, CutUtf8(delivery.body, kMaxTextBytes),
                               sending.sender_id, sending.sms_type, delivery.message_id};
  provider->Send(message, [this, &stats, scope, number = delivery.endpoint,
                           done = std::move(done)](channels::SmsResult r) {
    DeliveryOutcome outcome{DeliveryVerdict::kRetry, r.status, r.error, r.retry_after_seconds};
    switch (r.verdict) {
      case channels::SmsVerdict::kSent:
        stats.sent.Add();
        service_.CountSent(scope);
        if (!r.error.empty())
          spdlog::warn("event=sms_sent_with_note number={} note=\"{}\"",
                       LoggedEndpoint("sms", number), MaskEndpointIn(r.error, "sms", number));
        outcome = {DeliveryVerdict::kDelivered, r.status, "", -1};
        break;
      case channels::SmsVerdict::kRetry:
        stats.retried.Add();
        break;
      case channels::SmsVerdict::kPermanent:
        stats.permanent.Add();
        outcome.verdict = DeliveryVerdict::kPermanentFailure;
        break;
      case channels::SmsVerdict::kOptedOut:
        stats.opted_out.Add();
        service_.OptOut(scope, number);
        outcome.verdict = DeliveryVerdict::kPermanentFailure;
        break;
      case channels::SmsVerdict::kNotTried:
        outcome.verdict = DeliveryVerdict::kNotTried;
        break;
    }
    done(std::move(outcome));
  });
}

}  // namespace postbox::core
