#include "channels/push/fcm_message.h"

#include <nlohmann/json.hpp>

namespace postbox::channels {
namespace {

using nlohmann::json;

json StringValues(const json& data) {
  json out = json::object();
  if (!data.is_object()) return out;
  for (const auto& [key, value] : data.items()) {
    out[key] = value.is_string() ? value.get<std::string>() : value.dump();
  }
  return out;
}

Status Invalid(const std::string& why) {
  return Status(ErrorCode::kInvalidParameter,
                "Invalid parameter: Message Reason: Invalid notification for protocol GCM: " + why);
}

}  // namespace

Result<std::string> FcmMessageFromSns(const std::string& gcm_entry, const std::string& text) {
  if (gcm_entry.empty()) {
    return json{{"notification", {{"body", text}}}, {"data", {{"default", text}}}}.dump(
        -1, ' ', false, json::error_handler_t::replace);
  }
  json gcm = json::parse(gcm_entry, nullptr, false);
  if (!gcm.is_object()) return Invalid("the GCM entry is not a JSON object");
  if (auto v1 = gcm.find("fcmV1Message"); v1 != gcm.end()) {
    auto message = v1->is_object() ? v1->find("message") : v1->end();
    if (message == v1->end() || !message->is_object()) {
      return Invalid("fcmV1Message needs a message object");
    }
    json out = *message;
    if (out.contains("data")) out["data"] = StringValues(out["data"]);
    out.erase("token");  // the endpoint's token is the recipient
    return out.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  json out = json::object();
  json android = json::object();
  if (auto notification = gcm.find("notification");
      notification != gcm.end() && notification->is_object()) {
    json shown = json::object();
    json rest = json::object();
    for (const auto& [key, value] : notification->items()) {
      if ((key == "title" || key == "body" || key == "image") && value.is_string()) {
        shown[key] = value;
      } else {
        rest[key] = value.is_string() ? value.get<std::string>() : value.dump();
      }
    }
    if (!shown.empty()) out["notification"] = shown;
    if (!rest.empty()) android["notification"] = rest;
  }
  if (auto data = gcm.find("data"); data != gcm.end()) out["data"] = StringValues(*data);
  if (auto ttl = gcm.find("time_to_live"); ttl != gcm.end() && ttl->is_number_integer()) {
    android["ttl"] = std::to_string(ttl->get<int64_t>()) + "s";
  }
  if (auto priority = gcm.find("priority"); priority != gcm.end() && priority->is_string()) {
    android["priority"] = priority->get<std::string>() == "high" ? "HIGH" : "NORMAL";
  }
  if (!android.empty()) out["android"] = android;
  if (out.empty()) return Invalid("neither notification nor data");
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace postbox::channels
