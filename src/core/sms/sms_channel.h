// SmsChannel: the outbox's channel for SMS (protocol "sms": sms subscriptions and Publish to a
// phone number). It picks the provider for the number (the longest matching prefix among the
// routes, "82" -> sens, else the default provider), keeps each provider under its rate limit,
// refuses numbers that opted out and SMS beyond the account's MonthlySpendLimit, and turns the
// provider's answer into the outbox's verdict. A provider reporting that the owner replied
// STOP opts the number out (SmsService::OptOut) as SNS does.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/metrics.h"
#include "channels/sms/sms_provider.h"
#include "core/sms/sms_service.h"
#include "core/topic/delivery_channel.h"

namespace postbox::core {

struct SmsRoute {
  std::string prefix;  // digits of the E.164 number after "+": "82", "1", "4420"
  channels::SmsProvider* provider = nullptr;
};

class SmsChannel final : public DeliveryChannel {
 public:
  // Provider requests in flight at once, over all numbers.
  static constexpr int kMaxInFlight = 16;
  // SNS's limit for an SMS: longer text (a topic's message may be 256 KB) is cut to it.
  static constexpr size_t kMaxTextBytes = 1600;

  // Counted per provider, for /metrics.
  struct ProviderStats {
    Counter sent;
    Counter retried;       // transient failures
    Counter permanent;     // the number cannot be reached
    Counter opted_out;     // the provider said the owner opted out
    Counter rate_limited;  // held back by max_per_second (not attempts)
  };

  SmsChannel(SmsService& service, const Clock& clock, channels::SmsProvider* default_provider,
             std::vector<SmsRoute> routes);

  // At most `per_second` requests to `provider` each second (0: no limit). Call before serving.
  void SetRateLimit(channels::SmsProvider* provider, int per_second);

  void Deliver(const Delivery& delivery, std::function<void(DeliveryOutcome)> done) override;
  int max_in_flight() const override { return kMaxInFlight; }

  // By provider name; filled by the constructor.
  const std::map<std::string, std::unique_ptr<ProviderStats>>& stats() const { return stats_; }
  Counter refused_opted_out;  // SMS not sent: the number had opted out
  Counter refused_spend;      // SMS not sent: MonthlySpendLimit

 private:
  channels::SmsProvider* ProviderFor(const std::string& number) const;
  // Takes one of the provider's sends for this second, or says none is left.
  bool TakeSlot(channels::SmsProvider* provider);

  SmsService& service_;
  const Clock& clock_;
  channels::SmsProvider* default_provider_;
  std::vector<SmsRoute> routes_;  // longest prefix first
  std::map<std::string, std::unique_ptr<ProviderStats>> stats_;
  struct Bucket {
    int per_second = 0;
    int64_t second = 0;
    int used = 0;
  };
  std::mutex mu_;
  std::map<channels::SmsProvider*, Bucket> buckets_;
};

}  // namespace postbox::core
