// Chat webhook payloads and how their answers are judged.
#include "channels/chat/chat_message.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace postbox::channels {
namespace {

using nlohmann::json;

json Body(std::string_view format, const std::string& endpoint, const std::string& subject,
          const std::string& message) {
  return json::parse(BuildChatRequest(format, endpoint, subject, message).body);
}

TEST(ChatMessage, SlackAndDiscord) {
  EXPECT_EQ(Body("slack", "https://hooks.slack.com/x", "Disk", "95% full"),
            json({{"text", "*Disk*\n95% full"}}));
  EXPECT_EQ(Body("slack", "https://hooks.slack.com/x", "", "plain"), json({{"text", "plain"}}));
  // A publisher's text cannot ping the channel or make links.
  EXPECT_EQ(Body("slack", "u", "a<b", "<!channel> & <http://x|y>"),
            json({{"text", "*a&lt;b*\n&lt;!channel&gt; &amp; &lt;http://x|y&gt;"}}));
  json discord =
      Body("discord", "https://discord.com/api/webhooks/1/t", "", std::string(2500, 'a'));
  EXPECT_EQ(discord["content"].get<std::string>().size(), 1999u + std::string("…").size());
  EXPECT_EQ(discord["allowed_mentions"], json({{"parse", json::array()}}));
  // Exactly at the limit: nothing cut. Emoji count two, as Discord and Telegram count them.
  EXPECT_EQ(Body("discord", "u", "", std::string(2000, 'a'))["content"], std::string(2000, 'a'));
  std::string emoji;
  for (int i = 0; i < 1001; ++i) emoji += "😀";
  const std::string cut = Body("discord", "u", "", emoji)["content"];
  EXPECT_EQ(cut.size(), 999 * std::string("😀").size() + std::string("…").size());
}

TEST(ChatMessage, TeamsAdaptiveCard) {
  json card = Body("teams", "https://x.powerplatform.com/hook", "Deploy", "done");
  EXPECT_EQ(card["type"], "message");
  const json& attachment = card["attachments"][0];
  EXPECT_EQ(attachment["contentType"], "application/vnd.microsoft.card.adaptive");
  EXPECT_EQ(attachment["content"]["type"], "AdaptiveCard");
  EXPECT_EQ(attachment["content"]["body"][0]["text"], "Deploy");
  EXPECT_EQ(attachment["content"]["body"][1]["text"], "done");
}

TEST(ChatMessage, TelegramTakesTheChatIdIntoTheBody) {
  ChatRequest r = BuildChatRequest(
      "telegram", "https://api.telegram.org/bot1:AA/sendMessage?chat_id=-100123&x=1", "", "hi");
  EXPECT_EQ(r.url, "https://api.telegram.org/bot1:AA/sendMessage");
  EXPECT_EQ(json::parse(r.body), json({{"chat_id", "-100123"}, {"text", "hi"}}));
  r = BuildChatRequest("telegram", "https://api.telegram.org/bot1:AA/sendMessage?chat_id=%40news",
                       "", "hi");
  EXPECT_EQ(json::parse(r.body)["chat_id"], "@news");
}

TEST(ChatMessage, AlarmNotificationsReadAsAlarms) {
  const std::string alarm =
      R"({"AlarmName":"web-1 NetworkIn","NewStateValue":"ALARM","NewStateReason":"Threshold crossed"})";
  EXPECT_EQ(Body("slack", "u", "ALARM: web-1", alarm),
            json({{"text", "*🚨 ALARM: web-1 NetworkIn*\nThreshold crossed"}}));
}

TEST(ChatMessage, AnswersAreJudged) {
  EXPECT_TRUE(ClassifyChatAnswer("slack", {200, "", "ok", -1}).delivered);
  EXPECT_TRUE(ClassifyChatAnswer("discord", {204, "", "", -1}).delivered);
  EXPECT_TRUE(ClassifyChatAnswer("slack", {404, "", "channel_not_found", -1}).permanent);
  EXPECT_TRUE(ClassifyChatAnswer("slack", {410, "", "channel_is_archived", -1}).permanent);
  EXPECT_TRUE(ClassifyChatAnswer("teams", {413, "", "too large", -1}).permanent);
  ChatVerdict limited = ClassifyChatAnswer("discord", {429, "", "{}", 3});
  EXPECT_FALSE(limited.permanent);
  EXPECT_TRUE(limited.rate_limited);
  EXPECT_EQ(limited.retry_after_seconds, 3);
  ChatVerdict telegram = ClassifyChatAnswer(
      "telegram", {429, "", R"({"ok":false,"parameters":{"retry_after":7}})", -1});
  EXPECT_EQ(telegram.retry_after_seconds, 7);
  EXPECT_FALSE(ClassifyChatAnswer("telegram", {200, "", R"({"ok":false})", -1}).delivered);
  EXPECT_TRUE(ClassifyChatAnswer("telegram", {403, "", R"({"ok":false})", -1}).permanent);
  EXPECT_FALSE(ClassifyChatAnswer("teams", {503, "", "", -1}).permanent);
  EXPECT_FALSE(ClassifyChatAnswer("teams", {0, "refused", "", -1}).permanent);
}

}  // namespace
}  // namespace postbox::channels
