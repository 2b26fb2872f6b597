// Chat webhooks as a delivery format of https subscriptions: an SNS notification (or a
// CloudWatch alarm notification) turned into what Slack, Discord, Microsoft Teams (Workflows)
// and Telegram take, and their answers judged.
//
// The format is chosen by the subscription attribute PostboxChatFormat (slack | discord |
// teams | telegram); the endpoint is the webhook URL the chat service gave (for Telegram,
// https://api.telegram.org/bot<token>/sendMessage?chat_id=<chat>: the chat id moves into the
// body). A notification is shown as "*subject*" and the message; an alarm notification
// (JSON with AlarmName and NewStateValue) as its state, name and reason.
#pragma once

#include <string>
#include <string_view>

#include "channels/http_sender.h"

namespace postbox::channels {

bool IsChatFormat(std::string_view format);

// The request to make: the URL to POST to and its JSON body.
struct ChatRequest {
  std::string url;
  std::string body;
};
ChatRequest BuildChatRequest(std::string_view format, const std::string& endpoint,
                             const std::string& subject, const std::string& message);

struct ChatVerdict {
  bool delivered = false;
  bool permanent = false;     // the webhook is gone or refuses this message for good
  bool rate_limited = false;  // 429: wait (retry_after_seconds), not a failed attempt
  int retry_after_seconds = -1;
  std::string error;
};
// 2xx delivered (Telegram: also "ok": true); 429 rate-limited (Retry-After, or Telegram's
// parameters.retry_after); 5xx and no answer retried; 400, 401, 403, 404, 410 and 413
// permanent (a deleted webhook, a bot removed from the chat, a payload refused or too large).
ChatVerdict ClassifyChatAnswer(std::string_view format, const OutboundResponse& response);

}  // namespace postbox::channels
