#include "core/topic/topic.h"

#include <nlohmann/json.hpp>
#include <vector>

namespace postbox::core {

using nlohmann::json;

std::string EncodeTopic(const Topic& topic) {
  return json{{"arn", topic.arn},   {"region", topic.region}, {"account", topic.account},
              {"name", topic.name}, {"fifo", topic.fifo},     {"attributes", topic.attributes},
              {"tags", topic.tags}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

bool DecodeTopic(std::string_view blob, Topic* topic) {
  json j = json::parse(blob, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return false;
  try {
    topic->arn = j.at("arn").get<std::string>();
    topic->region = j.at("region").get<std::string>();
    topic->account = j.at("account").get<std::string>();
    topic->name = j.at("name").get<std::string>();
    topic->fifo = j.at("fifo").get<bool>();
    topic->attributes = j.at("attributes").get<AttributeMap>();
    topic->tags = j.at("tags").get<AttributeMap>();
  } catch (const json::exception&) {
    return false;
  }
  return true;
}

std::string EncodeSubscription(const Subscription& s) {
  return json{{"arn", s.arn},
              {"topic_arn", s.topic_arn},
              {"protocol", s.protocol},
              {"endpoint", s.endpoint},
              {"owner", s.owner},
              {"confirmed", s.confirmed},
              {"token", s.token},
              {"attributes", s.attributes},
              {"authenticate_on_unsubscribe", s.authenticate_on_unsubscribe},
              {"subscriber_account", s.subscriber_account}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

bool DecodeSubscription(std::string_view blob, Subscription* s) {
  json j = json::parse(blob, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return false;
  try {
    s->arn = j.at("arn").get<std::string>();
    s->topic_arn = j.at("topic_arn").get<std::string>();
    s->protocol = j.at("protocol").get<std::string>();
    s->endpoint = j.at("endpoint").get<std::string>();
    s->owner = j.at("owner").get<std::string>();
    s->confirmed = j.at("confirmed").get<bool>();
    s->token = j.at("token").get<std::string>();
    s->attributes = j.at("attributes").get<AttributeMap>();
    // Absent from records written before AuthenticateOnUnsubscribe was honoured.
    s->authenticate_on_unsubscribe = j.value("authenticate_on_unsubscribe", false);
    s->subscriber_account = j.value("subscriber_account", std::string());
  } catch (const json::exception&) {
    return false;
  }
  return true;
}

}  // namespace postbox::core
