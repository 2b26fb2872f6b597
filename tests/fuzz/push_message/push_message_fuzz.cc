// Fuzzes what mobile push and chat webhooks read from outside: a publisher's GCM entry (turned
// into an FCM v1 message), FCM's and chat services' answers, service-account key files, and
// messages (and webhook URLs) turned into chat payloads, which must stay valid JSON. Beyond not
// crashing: whatever FcmMessageFromSns accepts is a JSON object without a "token" and with string
// data values.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "channels/chat/chat_message.h"
#include "channels/push/fcm_client.h"
#include "channels/push/fcm_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace postbox::channels;
  const std::string input(reinterpret_cast<const char*>(data), size);
  auto message = FcmMessageFromSns(input, input);
  if (message.ok()) {
    auto parsed = nlohmann::json::parse(*message, nullptr, false);
    if (!parsed.is_object() || parsed.contains("token")) std::abort();
    auto values = parsed.find("data");
    if (values != parsed.end()) {
      for (const auto& [key, value] : values->items()) {
        if (!value.is_string()) std::abort();
      }
    }
  }
  for (int status : {0, 400, 404, 503}) (void)ClassifyFcmAnswer({status, "", input, -1});
  (void)ParseServiceAccount(input);
  for (const char* format : {"slack", "discord", "teams", "telegram"}) {
    ChatRequest chat = BuildChatRequest(format, input, input, input);
    if (!nlohmann::json::parse(chat.body, nullptr, false).is_object()) std::abort();
    (void)ClassifyChatAnswer(format, {429, "", input, -1});
  }
  return 0;
}
