#include "wire/sns/sns_call.h"

namespace postbox::wire::sns {

std::string StringMember(const nlohmann::json& object, const char* name) {
  if (!object.is_object()) return "";
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string SnsCall::String(const char* name) const { return StringMember(input, name); }

Result<std::string> SnsCall::Required(const char* name) const {
  auto it = input.find(name);
  if (it == input.end() || !it->is_string()) {
    // What AWS answers a request that lacks a required member (botocore checks first).
    return Status(ErrorCode::kInvalidParameter, std::string("Invalid parameter: ") + name +
                                                    " Reason: no value for required parameter");
  }
  return it->get<std::string>();
}

core::AttributeMap SnsCall::Map(const char* name) const {
  core::AttributeMap out;
  auto it = input.find(name);
  if (it == input.end() || !it->is_object()) return out;
  for (const auto& [key, value] : it->items()) {
    if (value.is_string()) out[key] = value.get<std::string>();
  }
  return out;
}

core::AttributeMap SnsCall::TagList(const char* name) const {
  core::AttributeMap out;
  auto it = input.find(name);
  if (it == input.end() || !it->is_array()) return out;
  for (const auto& tag : *it) {
    if (!tag.is_object()) continue;
    out[StringMember(tag, "Key")] = StringMember(tag, "Value");
  }
  return out;
}

std::vector<std::string> SnsCall::StringList(const char* name) const {
  std::vector<std::string> out;
  auto it = input.find(name);
  if (it == input.end() || !it->is_array()) return out;
  for (const auto& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

void WriteAttributeMap(XmlWriter& xml, const char* element, const core::AttributeMap& map) {
  xml.Open(element);
  for (const auto& [key, value] : map) {
    xml.Open("entry");
    xml.Element("key", key);
    xml.Element("value", value);
    xml.Close();
  }
  xml.Close();
}

std::function<void(Status)> ReplyEmpty(Reply reply) {
  return [reply = std::move(reply)](Status s) {
    if (!s.ok()) return reply(s);
    reply(ResultWriter());
  };
}

}  // namespace postbox::wire::sns
