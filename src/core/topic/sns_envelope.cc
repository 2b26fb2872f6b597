#include "core/topic/sns_envelope.h"

#include <nlohmann/json.hpp>

#include "base/encoding.h"

namespace postbox::core {

std::string UriEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    if (std::isalnum(uint8_t(c)) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[uint8_t(c) >> 4]);
      out.push_back(kHex[uint8_t(c) & 15]);
    }
  }
  return out;
}

namespace {

// Invalid UTF-8 (possible in a form-decoded message) becomes U+FFFD rather than an exception.
std::string Quote(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

// AWS writes these documents with a two-space indent and " : " between key and value, and each
// message attribute compactly on one line; some consumers compare bodies textually, so the
// layout is kept.
std::string BuildEnvelope(const EnvelopeFields& fields, const Topic& topic,
                          const MessageSigner& signer, const std::string& base_url,
                          SignatureCache* cache) {
  const bool notification = fields.type == "Notification";
  std::vector<std::pair<const char*, std::string>> members;
  members.emplace_back("Type", fields.type);
  members.emplace_back("MessageId", fields.message_id);
  if (!notification) members.emplace_back("Token", fields.token);
  if (!fields.sequence_number.empty())
    members.emplace_back("SequenceNumber", fields.sequence_number);
  members.emplace_back("TopicArn", fields.topic_arn);
  if (notification && !fields.subject.empty()) members.emplace_back("Subject", fields.subject);
  members.emplace_back("Message", fields.message);
  if (!notification) members.emplace_back("SubscribeURL", fields.subscribe_url);
  members.emplace_back("Timestamp", fields.timestamp);
  // FIFO topics' notifications are not signed (AWS sends no signature fields for them).
  if (!(topic.fifo && notification)) {
    auto version_attribute = topic.attributes.find("SignatureVersion");
    const int version =
        version_attribute != topic.attributes.end() && version_attribute->second == "2" ? 2 : 1;
    std::string text = CanonicalSigningText(fields.type, [&](std::string_view name) {
      for (const auto& [key, value] : members) {
        if (name == key) return &value;
      }
      return static_cast<const std::string*>(nullptr);
    });
    members.emplace_back("SignatureVersion", std::to_string(version));
    std::string signature;
    if (cache != nullptr) {
      std::string key = std::to_string(version) + text;
      auto [it, fresh] = cache->try_emplace(std::move(key));
      if (fresh) it->second = signer.Sign(text, version);
      signature = it->second;
    } else {
      signature = signer.Sign(text, version);
    }
    members.emplace_back("Signature", std::move(signature));
    members.emplace_back("SigningCertURL", base_url + "/" + signer.certificate_file_name());
  }
  if (notification) members.emplace_back("UnsubscribeURL", fields.unsubscribe_url);

  std::string out = "{\n";
  for (size_t i = 0; i < members.size(); ++i) {
    out += "  \"";
    out += members[i].first;
    out += "\" : " + Quote(members[i].second);
    if (i + 1 < members.size() || (notification && !fields.attributes.empty())) out += ",";
    out += "\n";
  }
  if (notification && !fields.attributes.empty()) {
    out += "  \"MessageAttributes\" : {\n";
    size_t n = 0;
    for (const auto& [name, value] : fields.attributes) {
      std::string shown = value.is_binary() ? Base64Encode(value.binary_value) : value.string_value;
      out += "    " + Quote(name) + " : {\"Type\":" + Quote(value.data_type) +
             ",\"Value\":" + Quote(shown) + "}";
      out += ++n < fields.attributes.size() ? ",\n" : "\n";
    }
    out += "  }\n";
  }
  out += "}";
  return out;
}

}  // namespace postbox::core
