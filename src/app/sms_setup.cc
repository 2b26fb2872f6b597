#include "app/sms_setup.h"

#include <spdlog/spdlog.h>

#include <map>

#include "channels/sms/sens_provider.h"
#include "channels/sms/twilio_provider.h"
#include "channels/sms/webhook_provider.h"

namespace postbox::app {

SmsSetup SetUpSms(const Config& config, channels::HttpSender& sender, const Clock& clock,
                  core::SmsService& service) {
  SmsSetup setup;
  const auto routes = ParseSmsRoutes(config.sms_routes)
                          .value_or(std::vector<std::pair<std::string, std::string>>{});
  if (config.sms_default_provider.empty() && routes.empty()) {
    spdlog::warn(
        "event=sms_provider_missing effect=\"sms subscriptions are stored but get no SMS, and "
        "Publish to a phone number is refused, until sms.default_provider is set\"");
    return setup;
  }
  std::map<std::string, channels::SmsProvider*> by_name;
  std::map<channels::SmsProvider*, int> rates;
  auto provider = [&](const std::string& name) -> channels::SmsProvider* {
    if (name.empty()) return nullptr;
    if (auto it = by_name.find(name); it != by_name.end()) return it->second;
    std::unique_ptr<channels::SmsProvider> made;
    int rate = 0;
    if (name == "sens") {
      made = std::make_unique<channels::SensProvider>(
          sender, clock,
          channels::SensOptions{config.sms_sens_endpoint, config.sms_sens_service_id,
                                config.sms_sens_access_key, config.sms_sens_secret_key,
                                config.sms_sens_from});
      rate = config.sms_sens_max_per_second;
      if (channels::PrepareSensText("가").euc_kr_bytes != 2) {
        // Without the C library's Korean converters every Hangul character would go as "?".
        spdlog::error(
            "event=sms_sens_no_korean_charset effect=\"Korean text cannot be measured and is "
            "sent as '?': install the C library's gconv modules (CP949)\"");
      }
      spdlog::info("event=sms_provider name=sens endpoint={} service_id={} from={}",
                   config.sms_sens_endpoint, config.sms_sens_service_id, config.sms_sens_from);
    } else if (name == "twilio") {
      made = std::make_unique<channels::TwilioProvider>(
          sender, channels::TwilioOptions{config.sms_twilio_endpoint, config.sms_twilio_account_sid,
                                          config.sms_twilio_auth_token, config.sms_twilio_from});
      rate = config.sms_twilio_max_per_second;
      spdlog::info("event=sms_provider name=twilio endpoint={} account_sid={} from={}",
                   config.sms_twilio_endpoint, config.sms_twilio_account_sid,
                   config.sms_twilio_from);
    } else {
      made = std::make_unique<channels::WebhookSmsProvider>(
          sender, clock,
          channels::WebhookSmsOptions{config.sms_webhook_url, config.sms_webhook_secret});
      rate = config.sms_webhook_max_per_second;
      spdlog::info("event=sms_provider name=webhook signed={}", !config.sms_webhook_secret.empty());
    }
    channels::SmsProvider* raw = made.get();
    setup.providers.push_back(std::move(made));
    by_name[name] = raw;
    rates[raw] = rate;
    return raw;
  };
  channels::SmsProvider* fallback = provider(config.sms_default_provider);
  std::vector<core::SmsRoute> sms_routes;
  for (const auto& [prefix, name] : routes) sms_routes.push_back({prefix, provider(name)});
  setup.channel =
      std::make_unique<core::SmsChannel>(service, clock, fallback, std::move(sms_routes));
  for (const auto& [p, rate] : rates) setup.channel->SetRateLimit(p, rate);
  return setup;
}

}  // namespace postbox::app
