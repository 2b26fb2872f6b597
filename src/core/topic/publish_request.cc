#include "core/topic/publish_request.h"

#include <nlohmann/json.hpp>

#include "channels/push/fcm_message.h"
#include "core/topic/topic_attributes.h"

namespace postbox::core {
namespace {

using nlohmann::json;

constexpr size_t kMaxMessageBytes = 262144;  // message plus attributes, as on AWS
constexpr size_t kMaxSubjectChars = 100;

Status InvalidParameter(const std::string& what) {
  return Status(ErrorCode::kInvalidParameter, "Invalid parameter: " + what);
}

size_t PublishSize(const PublishRequest& request) {
  size_t size = request.message.size();
  for (const auto& [name, value] : request.attributes) {
    size += name.size() + value.data_type.size() + value.string_value.size() +
            value.binary_value.size();
  }
  return size;
}

// The structure's string entry `key`, if it has one.
std::optional<std::string> Entry(const PublishRequest& request, const std::string& key) {
  if (request.message_structure != "json") return std::nullopt;
  json structure = json::parse(request.message, nullptr, false);
  if (!structure.is_object()) return std::nullopt;
  auto it = structure.find(key);
  if (it == structure.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace

Status ValidatePublishRequest(const PublishRequest& request) {
  if (request.message.empty()) return InvalidParameter("Empty message");
  if (PublishSize(request) > kMaxMessageBytes) return InvalidParameter("Message too long");
  if (!request.subject.empty()) {
    bool valid = request.subject.size() <= kMaxSubjectChars;
    for (char c : request.subject) valid = valid && uint8_t(c) >= 0x20 && c != 0x7f;
    if (!valid) return InvalidParameter("Subject");
  }
  if (!request.message_structure.empty()) {
    if (request.message_structure != "json") return InvalidParameter("MessageStructure");
    json structure = json::parse(request.message, nullptr, false);
    if (!structure.is_object()) {
      return InvalidParameter("Message Structure - JSON message body failed to parse");
    }
    auto it = structure.find("default");
    if (it == structure.end() || !it->is_string()) {
      return InvalidParameter("Message Structure - No default entry in JSON message body");
    }
  }
  return ValidatePublishAttributes(request.attributes);
}

std::string StructureEntry(const PublishRequest& request, const std::string& key) {
  if (request.message_structure != "json") return request.message;
  if (auto entry = Entry(request, key)) return *entry;
  return Entry(request, "default").value_or("");
}

std::string ExactStructureEntry(const PublishRequest& request, const std::string& key) {
  return Entry(request, key).value_or("");
}

Result<std::string> PushMessageFor(const PublishRequest& request) {
  return channels::FcmMessageFromSns(ExactStructureEntry(request, "GCM"),
                                     StructureEntry(request, "default"));
}

}  // namespace postbox::core
