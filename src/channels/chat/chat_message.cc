#include "channels/chat/chat_message.h"

#include <nlohmann/json.hpp>

#include "base/encoding.h"

namespace postbox::channels {
namespace {

using nlohmann::json;

constexpr size_t kDiscordLimit = 2000;   // characters of `content`
constexpr size_t kTelegramLimit = 4096;  // characters of `text`

// How many UTF-16 units a UTF-8 lead byte's character takes: the unit Discord and Telegram
// count their limits in (an emoji is two).
size_t Utf16Units(unsigned char lead) { return lead >= 0xf0 ? 2 : 1; }

// At most `limit` UTF-16 units of UTF-8 text, ending in "…" when cut.
std::string CutCharacters(const std::string& text, size_t limit) {
  size_t total = 0;
  for (unsigned char c : text) {
    if ((c & 0xc0) != 0x80) total += Utf16Units(c);
  }
  if (total <= limit) return text;
  size_t units = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c & 0xc0) == 0x80) continue;
    if (units + Utf16Units(c) > limit - 1) return text.substr(0, i) + "…";  // room for "…"
    units += Utf16Units(c);
  }
  return text;
}

// Slack reads <...> as links and mentions (<!channel> pings everyone) and & as an entity: a
// publisher's text is shown as written.
std::string SlackEscaped(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// The headline and the text a person reads, from an SNS message.
std::pair<std::string, std::string> Readable(const std::string& subject,
                                             const std::string& message) {
  json alarm = json::parse(message, nullptr, false);
  if (alarm.is_object() && alarm.contains("AlarmName") && alarm.contains("NewStateValue")) {
    auto text = [&](const char* name) {
      auto it = alarm.find(name);
      return it != alarm.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    const std::string state = text("NewStateValue");
    const std::string icon = state == "ALARM" ? "🚨 " : state == "OK" ? "✅ " : "";
    return {icon + state + ": " + text("AlarmName"), text("NewStateReason")};
  }
  return {subject, message};
}

}  // namespace

bool IsChatFormat(std::string_view f) {
  return f == "slack" || f == "discord" || f == "teams" || f == "telegram";
}

ChatRequest BuildChatRequest(std::string_view format, const std::string& endpoint,
                             const std::string& subject, const std::string& message) {
  auto [headline, text] = Readable(subject, message);
  ChatRequest request{endpoint, ""};
  json body;
  if (format == "slack") {
    const std::string shown = SlackEscaped(text);
    body = {{"text", headline.empty() ? shown : "*" + SlackEscaped(headline) + "*\n" + shown}};
  } else if (format == "discord") {
    body = {{"content", CutCharacters(headline.empty() ? text : "**" + headline + "**\n" + text,
                                      kDiscordLimit)},
            // A publisher's "@everyone" or role mention is shown, never pings anyone.
            {"allowed_mentions", {{"parse", json::array()}}}};
  } else if (format == "teams") {
    json blocks = json::array();
    if (!headline.empty()) {
      blocks.push_back({{"type", "TextBlock"},
                        {"text", headline},
                        {"weight", "Bolder"},
                        {"size", "Medium"},
                        {"wrap", true}});
    }
    blocks.push_back({{"type", "TextBlock"}, {"text", text}, {"wrap", true}});
    body = {{"type", "message"},
            {"attachments",
             {{{"contentType", "application/vnd.microsoft.card.adaptive"},
               {"contentUrl", nullptr},
               {"content",
                {{"$schema", "http://adaptivecards.io/schemas/adaptive-card.json"},
                 {"type", "AdaptiveCard"},
                 {"version", "1.4"},
                 {"body", blocks}}}}}}};
  } else {  // telegram: plain text (no parse_mode: nothing to escape)
    std::string chat_id;
    const size_t query = endpoint.find('?');
    if (query != std::string::npos) {
      request.url = endpoint.substr(0, query);
      std::string_view params(endpoint);
      params.remove_prefix(query + 1);
      while (!params.empty()) {
        const size_t amp = params.find('&');
        std::string_view pair = params.substr(0, amp);
        if (pair.substr(0, 8) == "chat_id=") chat_id = PercentDecode(pair.substr(8));
        if (amp == std::string_view::npos) break;
        params.remove_prefix(amp + 1);
      }
    }
    body = {{"chat_id", chat_id},
            {"text",
             CutCharacters(headline.empty() ? text : headline + "\n\n" + text, kTelegramLimit)}};
  }
  request.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return request;
}

ChatVerdict ClassifyChatAnswer(std::string_view format, const OutboundResponse& r) {
  ChatVerdict verdict;
  verdict.retry_after_seconds = r.retry_after_seconds;
  json body = json::parse(r.body, nullptr, false);
  if (format == "telegram" && body.is_object()) {
    auto parameters = body.find("parameters");
    if (parameters != body.end() && parameters->is_object()) {
      auto retry = parameters->find("retry_after");
      if (retry != parameters->end() && retry->is_number_integer()) {
        verdict.retry_after_seconds = retry->get<int>();
      }
    }
  }
  if (r.status >= 200 && r.status < 300) {
    const bool refused =
        format == "telegram" && body.is_object() && body.contains("ok") && body["ok"] == false;
    verdict.delivered = !refused;
    if (!refused) return verdict;
  }
  std::string detail = r.body.substr(0, 200);
  for (char& c : detail) {
    if (static_cast<unsigned char>(c) < 0x20 || c == '"') c = ' ';
  }
  verdict.error = r.status == 0 ? r.error : "HTTP " + std::to_string(r.status) + ": " + detail;
  verdict.permanent = r.status == 400 || r.status == 401 || r.status == 403 || r.status == 404 ||
                      r.status == 410 || r.status == 413;
  verdict.rate_limited = r.status == 429;
  return verdict;
}

}  // namespace postbox::channels
