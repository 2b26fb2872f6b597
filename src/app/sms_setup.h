// The SMS providers and channel that the sms.* settings ask for.
#pragma once

#include <memory>
#include <vector>

#include "app/config.h"
#include "base/clock.h"
#include "channels/http_sender.h"
#include "channels/sms/sms_provider.h"
#include "core/sms/sms_channel.h"
#include "core/sms/sms_service.h"

namespace postbox::app {

struct SmsSetup {
  std::vector<std::unique_ptr<channels::SmsProvider>> providers;
  std::unique_ptr<core::SmsChannel> channel;  // null: SMS is off (no provider configured)
};

// Builds the configured providers (only those the default provider and the routes name), each
// under its max_per_second, and the channel that routes between them. Logs what it set up,
// without secrets.
SmsSetup SetUpSms(const Config& config, channels::HttpSender& sender, const Clock& clock,
                  core::SmsService& service);

}  // namespace postbox::app
