#include "core/topic/topic_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <unordered_map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "core/topic/sns_envelope.h"
#include "core/topic/topic_attributes.h"

namespace postbox::core {
namespace {

using nlohmann::json;

constexpr size_t kMaxMessageBytes = 262144;  // message plus attributes, as on AWS
constexpr size_t kMaxSubjectChars = 100;

Status InvalidParameter(const std::string& what) {
  return Status(ErrorCode::kInvalidParameter, "Invalid parameter: " + what);
}
Status TopicNotFound() { return Status(ErrorCode::kNotFound, "Topic does not exist"); }
Status SubscriptionNotFound() {
  return Status(ErrorCode::kNotFound, "Subscription does not exist");
}

std::string TopicArnOf(const std::string& region, const std::string& account,
                       const std::string& name) {
  return "arn:aws:sns:" + region + ":" + account + ":" + name;
}

bool IsHttp(const std::string& protocol) { return protocol == "http" || protocol == "https"; }

bool IsFifoName(const std::string& name) {
  return name.size() > 5 && name.compare(name.size() - 5, 5, ".fifo") == 0;
}

size_t PublishSize(const PublishRequest& request) {
  size_t size = request.message.size();
  for (const auto& [name, value] : request.attributes) {
    size += name.size() + value.data_type.size() + value.string_value.size() +
            value.binary_value.size();
  }
  return size;
}

// The message a subscription of `protocol` gets: with MessageStructure=json, its protocol's
// entry or the default one.
std::string MessageFor(const PublishRequest& request, const std::string& protocol) {
  if (request.message_structure != "json") return request.message;
  json structure = json::parse(request.message, nullptr, false);
  auto it = structure.find(protocol);
  if (it != structure.end() && it->is_string()) return it->get<std::string>();
  return structure.at("default").get<std::string>();
}

// SNS attribute types reach SQS as SQS types: String.Array has no SQS equivalent and travels
// as a String holding the JSON array, as on AWS.
MessageAttributes ToQueueAttributes(const MessageAttributes& attributes) {
  MessageAttributes out = attributes;
  for (auto& [name, value] : out) {
    if (value.data_type == "String.Array") value.data_type = "String";
  }
  return out;
}

}  // namespace

namespace {

// FIFO topics: what was published under each deduplication id in the last five minutes, so
// that a duplicate gets the original MessageId and SequenceNumber. Kept in memory only: after
// a restart a duplicate gets new ids, but the FIFO queues still deliver it once (their own
// windows are durable).
class RecentPublishes {
 public:
  std::optional<PublishResult> Find(const std::string& id, int64_t now_ms) {
    while (!order_.empty() && order_.front().first <= now_ms) {
      auto it = by_id_.find(order_.front().second);
      if (it != by_id_.end() && it->second.expires_ms <= now_ms) by_id_.erase(it);
      order_.pop_front();
    }
    auto it = by_id_.find(id);
    if (it == by_id_.end()) return std::nullopt;
    return it->second.result;
  }
  void Remember(const std::string& id, const PublishResult& result, int64_t now_ms) {
    by_id_[id] = {result, now_ms + kWindowMs};
    order_.emplace_back(now_ms + kWindowMs, id);
  }
  void Forget(const std::string& id) { by_id_.erase(id); }

 private:
  static constexpr int64_t kWindowMs = 5 * 60 * 1000;
  struct Entry {
    PublishResult result;
    int64_t expires_ms = 0;
  };
  std::unordered_map<std::string, Entry> by_id_;
  std::deque<std::pair<int64_t, std::string>> order_;  // expiry order
};

// The deduplication id of a FIFO publish: the given one, or with ContentBasedDeduplication the
// SHA-256 of the message (not of its attributes).
std::string DeduplicationId(const PublishRequest& request) {
  return request.message_deduplication_id.empty() ? Sha256Hex(request.message)
                                                  : request.message_deduplication_id;
}

}  // namespace

struct TopicService::TopicState {
  Topic topic;
  std::map<std::string, Subscription> subscriptions;  // by ARN
  std::map<std::string, std::shared_ptr<const FilterPolicy>> filters;  // by subscription ARN
  int64_t deleted_subscriptions = 0;
  RecentPublishes deduplication;  // FIFO topics only; guarded by the service's mutex
};

Status ValidateTopicName(const std::string& name, bool fifo) {
  std::string_view base = name;
  if (fifo) {
    if (!IsFifoName(name)) return InvalidParameter("Topic Name");
    base.remove_suffix(5);
  }
  bool valid = !base.empty() && name.size() <= 256;
  for (char c : base) valid = valid && (std::isalnum(uint8_t(c)) || c == '-' || c == '_');
  return valid ? Status::Ok() : InvalidParameter("Topic Name");
}

TopicService::TopicService(storage::Engine& engine, const Clock& clock, QueueService& queues,
                           const MessageSigner& signer, DeliveryOutbox* outbox)
    : engine_(engine), clock_(clock), queues_(queues), signer_(signer), outbox_(outbox) {}

Delivery TopicService::NewDelivery(const TopicState& topic, const Subscription& s) const {
  Delivery d;
  d.id = NewUuid();
  d.topic_arn = topic.topic.arn;
  d.subscription_arn = s.arn;
  d.endpoint = s.endpoint;
  auto own = s.attributes.find("DeliveryPolicy");
  auto inherited = topic.topic.attributes.find("DeliveryPolicy");
  d.policy = EffectiveRetryPolicy(own == s.attributes.end() ? "" : own->second,
                                  inherited == topic.topic.attributes.end() ? "" : inherited->second);
  auto redrive = s.attributes.find("RedrivePolicy");
  if (redrive != s.attributes.end()) {
    json policy = json::parse(redrive->second, nullptr, false);
    if (policy.is_object()) d.dead_letter_queue_arn = policy.value("deadLetterTargetArn", "");
  }
  d.next_attempt_ms = clock_.NowMillis();
  return d;
}

Delivery TopicService::ConfirmationDelivery(const TopicState& topic, const Subscription& s,
                                            const std::string& type,
                                            const std::string& base_url) const {
  Delivery d = NewDelivery(topic, s);
  d.message_type = type;
  d.message_id = NewUuid();
  EnvelopeFields fields;
  fields.type = type;
  fields.message_id = d.message_id;
  fields.token = s.token;
  fields.topic_arn = topic.topic.arn;
  fields.message = type == "SubscriptionConfirmation"
                       ? "You have chosen to subscribe to the topic " + topic.topic.arn +
                             ".\nTo confirm the subscription, visit the SubscribeURL included in "
                             "this message."
                       : "You have chosen to deactivate subscription " + s.arn +
                             ".\nTo cancel this operation and restore the subscription, visit the "
                             "SubscribeURL included in this message.";
  fields.subscribe_url = base_url + "/?Action=ConfirmSubscription&TopicArn=" + topic.topic.arn +
                         "&Token=" + s.token;
  fields.timestamp = Iso8601Millis(clock_.NowMillis());
  d.body = BuildEnvelope(fields, topic.topic, signer_, base_url);
  return d;
}

Status TopicService::Load() {
  std::unique_lock lock(mu_);
  Status bad;
  POSTBOX_RETURN_IF_ERROR(engine_.LoadRecords(
      storage::RecordKind::kTopic, [&](uint64_t, std::string_view, std::string_view blob) {
        auto state = std::make_shared<TopicState>();
        if (!DecodeTopic(blob, &state->topic)) {
          bad = Status(ErrorCode::kStorageError, "corrupt topic record");
          return;
        }
        topics_[state->topic.arn] = state;
      }));
  POSTBOX_RETURN_IF_ERROR(bad);
  POSTBOX_RETURN_IF_ERROR(engine_.LoadRecords(
      storage::RecordKind::kSubscription, [&](uint64_t, std::string_view, std::string_view blob) {
        Subscription s;
        if (!DecodeSubscription(blob, &s)) {
          bad = Status(ErrorCode::kStorageError, "corrupt subscription record");
          return;
        }
        auto topic = topics_.find(s.topic_arn);
        if (topic == topics_.end()) return;  // its topic's deletion won the race: drop it
        auto filter = CompileSubscriptionFilter(s.attributes);
        if (filter.ok() && *filter) topic->second->filters[s.arn] = *filter;
        subscription_topic_[s.arn] = s.topic_arn;
        topic->second->subscriptions[s.arn] = std::move(s);
      }));
  return bad;
}

Result<TopicService::TopicPtr> TopicService::FindTopic(const std::string& arn) const {
  std::shared_lock lock(mu_);
  auto it = topics_.find(arn);
  if (it == topics_.end()) return TopicNotFound();
  return it->second;
}

void TopicService::PersistTopic(const Topic& topic, StatusCallback done) {
  storage::WriteBatch batch;
  batch.PutRecord(storage::RecordKind::kTopic, 0, topic.arn, EncodeTopic(topic));
  engine_.Commit(std::move(batch), storage::Durability::kSync, std::move(done));
}

void TopicService::PersistSubscription(const Subscription& subscription, StatusCallback done,
                                       std::optional<Delivery> delivery) {
  storage::WriteBatch batch;
  batch.PutRecord(storage::RecordKind::kSubscription, 0, subscription.arn,
                  EncodeSubscription(subscription));
  if (delivery && outbox_ != nullptr) DeliveryOutbox::Stage(*delivery, &batch);
  engine_.Commit(std::move(batch), storage::Durability::kSync,
                 [this, delivery = std::move(delivery), done = std::move(done)](Status s) mutable {
                   if (s.ok() && delivery && outbox_ != nullptr) {
                     outbox_->Activate(std::move(*delivery));
                   }
                   done(s);
                 });
}

// --- topics ---

void TopicService::CreateTopic(const std::string& region, const std::string& account,
                               const std::string& name, AttributeMap attributes,
                               AttributeMap tags, std::function<void(Result<std::string>)> done) {
  bool fifo = false;
  if (auto it = attributes.find("FifoTopic"); it != attributes.end()) {
    std::string value = it->second;
    std::transform(value.begin(), value.end(), value.begin(), ::tolower);
    if (value != "true" && value != "false") return done(InvalidParameter("FifoTopic"));
    fifo = value == "true";
    attributes.erase(it);
  }
  POSTBOX_RETURN_CALLBACK_IF_ERROR(done, ValidateTopicName(name, fifo || IsFifoName(name)));
  if (IsFifoName(name) && !fifo) return done(InvalidParameter("Topic Name"));
  for (const auto& [key, value] : attributes) {
    POSTBOX_RETURN_CALLBACK_IF_ERROR(done,
                                     ToAttributesReason(ValidateTopicAttribute(key, value, fifo)));
  }
  POSTBOX_RETURN_CALLBACK_IF_ERROR(done, ValidateTags(tags));
  Topic topic;
  topic.arn = TopicArnOf(region, account, name);
  topic.region = region;
  topic.account = account;
  topic.name = name;
  topic.fifo = fifo;
  topic.attributes = std::move(attributes);
  topic.tags = std::move(tags);
  {
    std::unique_lock lock(mu_);
    auto existing = topics_.find(topic.arn);
    if (existing != topics_.end()) {
      // Creating an existing topic is idempotent when nothing given differs from it.
      const Topic& old = existing->second->topic;
      for (const auto& [key, value] : topic.attributes) {
        auto it = old.attributes.find(key);
        if (it == old.attributes.end() || it->second != value) {
          return done(InvalidParameter(
              "Attributes Reason: Topic already exists with different attributes"));
        }
      }
      if (!topic.tags.empty() && topic.tags != old.tags) {
        return done(InvalidParameter("Tags Reason: Topic already exists with different tags"));
      }
      return done(old.arn);
    }
    auto state = std::make_shared<TopicState>();
    state->topic = topic;
    topics_[topic.arn] = state;  // reserved now; undone if storage fails
  }
  PersistTopic(topic, [this, arn = topic.arn, done = std::move(done)](Status s) {
    if (!s.ok()) {
      std::unique_lock lock(mu_);
      topics_.erase(arn);
      return done(s);
    }
    done(arn);
  });
}

void TopicService::DeleteTopic(const std::string& topic_arn, StatusCallback done) {
  TopicPtr topic;
  {
    std::unique_lock lock(mu_);
    auto it = topics_.find(topic_arn);
    // Deleting a topic that does not exist is not an error (AWS DeleteTopic documentation).
    if (it == topics_.end()) return done(Status::Ok());
    topic = it->second;
    topics_.erase(it);
    for (const auto& [arn, s] : topic->subscriptions) subscription_topic_.erase(arn);
  }
  storage::WriteBatch batch;
  batch.DeleteRecord(storage::RecordKind::kTopic, 0, topic_arn);
  for (const auto& [arn, s] : topic->subscriptions) {
    batch.DeleteRecord(storage::RecordKind::kSubscription, 0, arn);
  }
  engine_.Commit(std::move(batch), storage::Durability::kSync, std::move(done));
}

std::vector<std::string> TopicService::ListTopics(const std::string& region,
                                                  const std::string& account) const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  for (const auto& [arn, state] : topics_) {
    if (state->topic.region == region && state->topic.account == account) out.push_back(arn);
  }
  return out;
}

Result<AttributeMap> TopicService::GetTopicAttributes(const std::string& topic_arn) const {
  std::shared_lock lock(mu_);
  auto it = topics_.find(topic_arn);
  if (it == topics_.end()) return TopicNotFound();
  const TopicState& state = *it->second;
  int64_t confirmed = 0;
  int64_t pending = 0;
  for (const auto& [arn, s] : state.subscriptions) (s.confirmed ? confirmed : pending)++;
  return TopicAttributes(state.topic, confirmed, pending, state.deleted_subscriptions);
}

void TopicService::SetTopicAttribute(const std::string& topic_arn, const std::string& name,
                                     const std::string& value, StatusCallback done) {
  Topic updated;
  {
    std::unique_lock lock(mu_);
    auto it = topics_.find(topic_arn);
    if (it == topics_.end()) return done(TopicNotFound());
    Topic& topic = it->second->topic;
    POSTBOX_RETURN_CALLBACK_IF_ERROR(done, ValidateTopicAttribute(name, value, topic.fifo));
    topic.attributes[name] = value;
    updated = topic;
  }
  PersistTopic(updated, std::move(done));
}

// --- subscriptions ---

void TopicService::Subscribe(const std::string& topic_arn, const std::string& protocol,
                             const std::string& endpoint, AttributeMap attributes,
                             const std::string& base_url,
                             std::function<void(Result<SubscribeResult>)> done) {
  auto topic = FindTopic(topic_arn);
  if (!topic.ok()) return done(topic.status());
  const bool topic_fifo = (*topic)->topic.fifo;
  POSTBOX_RETURN_CALLBACK_IF_ERROR(done, ValidateEndpoint(protocol, endpoint, topic_fifo));
  if (protocol == "sqs") {
    std::optional<QueueId> queue_id = QueueIdFromArn(endpoint);
    bool queue_fifo = IsFifoName(queue_id->name);
    if (queue_fifo && !topic_fifo) {
      return done(InvalidParameter(
          "Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard "
          "SNS topics"));
    }
  }
  for (auto& [name, value] : attributes) {
    POSTBOX_RETURN_CALLBACK_IF_ERROR(
        done, ToAttributesReason(ValidateSubscriptionAttribute(name, value, protocol)));
    value = NormalizeSubscriptionAttribute(name, value);
  }
  auto filter = CompileSubscriptionFilter(attributes);
  if (!filter.ok()) return done(ToAttributesReason(filter.status()));

  Subscription subscription;
  std::optional<Delivery> confirmation;
  {
    std::unique_lock lock(mu_);
    auto it = topics_.find(topic_arn);
    if (it == topics_.end()) return done(TopicNotFound());
    for (const auto& [arn, existing] : it->second->subscriptions) {
      if (existing.protocol == protocol && existing.endpoint == endpoint) {
        // Subscribing again is idempotent unless it asks for different attributes.
        for (const auto& [name, value] : attributes) {
          auto old = existing.attributes.find(name);
          // A default value asked again is no difference (AWS returns the subscription).
          bool is_default = (name == "RawMessageDelivery" && value == "false") ||
                            (name == "FilterPolicyScope" && value == "MessageAttributes");
          if (old == existing.attributes.end() ? !is_default : old->second != value) {
            return done(InvalidParameter(
                "Attributes Reason: Subscription already exists with different attributes"));
          }
        }
        return done(SubscribeResult{existing.arn, !existing.confirmed});
      }
    }
    subscription.arn = topic_arn + ":" + NewUuid();
    subscription.topic_arn = topic_arn;
    subscription.protocol = protocol;
    subscription.endpoint = endpoint;
    subscription.owner = it->second->topic.account;
    // Queues of this server belong to the same owner, so their subscriptions need no
    // confirmation (as for same-account queues on AWS). Others wait for ConfirmSubscription.
    subscription.confirmed = protocol == "sqs";
    if (!subscription.confirmed) subscription.token = HexEncode(Sha256(NewUuid() + NewUuid()));
    subscription.attributes = std::move(attributes);
    it->second->subscriptions[subscription.arn] = subscription;
    if (*filter) it->second->filters[subscription.arn] = *filter;
    subscription_topic_[subscription.arn] = topic_arn;
    if (IsHttp(protocol)) {
      confirmation = ConfirmationDelivery(*it->second, subscription, "SubscriptionConfirmation",
                                          base_url);
    }
  }
  PersistSubscription(subscription, [this, subscription, done = std::move(done)](Status s) {
    if (!s.ok()) {
      std::unique_lock lock(mu_);
      auto it = topics_.find(subscription.topic_arn);
      if (it != topics_.end()) {
        it->second->subscriptions.erase(subscription.arn);
        it->second->filters.erase(subscription.arn);
      }
      subscription_topic_.erase(subscription.arn);
      return done(s);
    }
    done(SubscribeResult{subscription.arn, !subscription.confirmed});
  }, std::move(confirmation));
}

void TopicService::ConfirmSubscription(const std::string& topic_arn, const std::string& token,
                                       std::function<void(Result<std::string>)> done) {
  Subscription confirmed;
  {
    std::unique_lock lock(mu_);
    auto it = topics_.find(topic_arn);
    if (it == topics_.end()) return done(TopicNotFound());
    Subscription* match = nullptr;
    for (auto& [arn, s] : it->second->subscriptions) {
      if (!s.token.empty() && s.token == token) match = &s;
    }
    if (match == nullptr) {
      // AWS tells a malformed token from a well-formed one that matches nothing.
      bool well_formed = token.size() >= 64 && std::all_of(token.begin(), token.end(), ::isxdigit);
      return done(well_formed ? InvalidParameter("Token")
                              : Status(ErrorCode::kInvalidParameter, "Invalid token"));
    }
    if (match->confirmed) return done(match->arn);
    match->confirmed = true;
    confirmed = *match;
  }
  PersistSubscription(confirmed, [arn = confirmed.arn, done = std::move(done)](Status s) {
    if (!s.ok()) return done(s);
    done(arn);
  });
}

void TopicService::Unsubscribe(const std::string& subscription_arn, const std::string& base_url,
                               StatusCallback done) {
  std::optional<Delivery> goodbye;
  {
    std::unique_lock lock(mu_);
    auto topic_arn = subscription_topic_.find(subscription_arn);
    // Unsubscribing twice is not an error (AWS answers 200 again).
    if (topic_arn == subscription_topic_.end()) return done(Status::Ok());
    auto topic = topics_.find(topic_arn->second);
    if (topic != topics_.end()) {
      const Subscription& s = topic->second->subscriptions.at(subscription_arn);
      // A confirmed HTTP/S endpoint is told, with a link that would subscribe it again.
      if (IsHttp(s.protocol) && s.confirmed && outbox_ != nullptr) {
        goodbye = ConfirmationDelivery(*topic->second, s, "UnsubscribeConfirmation", base_url);
      }
      topic->second->subscriptions.erase(subscription_arn);
      topic->second->filters.erase(subscription_arn);
      ++topic->second->deleted_subscriptions;
    }
    subscription_topic_.erase(topic_arn);
  }
  storage::WriteBatch batch;
  batch.DeleteRecord(storage::RecordKind::kSubscription, 0, subscription_arn);
  if (goodbye) DeliveryOutbox::Stage(*goodbye, &batch);
  engine_.Commit(std::move(batch), storage::Durability::kSync,
                 [this, goodbye = std::move(goodbye), done = std::move(done)](Status s) mutable {
                   if (s.ok() && goodbye) outbox_->Activate(std::move(*goodbye));
                   done(s);
                 });
}

std::vector<Subscription> TopicService::ListSubscriptions(const std::string& region,
                                                          const std::string& account) const {
  std::shared_lock lock(mu_);
  std::vector<Subscription> out;
  for (const auto& [arn, state] : topics_) {
    if (state->topic.region != region || state->topic.account != account) continue;
    for (const auto& [sub_arn, s] : state->subscriptions) out.push_back(s);
  }
  return out;
}

Result<std::vector<Subscription>> TopicService::ListSubscriptionsByTopic(
    const std::string& topic_arn) const {
  std::shared_lock lock(mu_);
  auto it = topics_.find(topic_arn);
  if (it == topics_.end()) return TopicNotFound();
  std::vector<Subscription> out;
  for (const auto& [arn, s] : it->second->subscriptions) out.push_back(s);
  return out;
}

Result<AttributeMap> TopicService::GetSubscriptionAttributes(
    const std::string& subscription_arn) const {
  std::shared_lock lock(mu_);
  auto topic_arn = subscription_topic_.find(subscription_arn);
  if (topic_arn == subscription_topic_.end()) return SubscriptionNotFound();
  const TopicState& topic = *topics_.at(topic_arn->second);
  return SubscriptionAttributes(topic.subscriptions.at(subscription_arn));
}

void TopicService::SetSubscriptionAttribute(const std::string& subscription_arn,
                                            const std::string& name, const std::string& value,
                                            StatusCallback done) {
  Subscription updated;
  {
    std::unique_lock lock(mu_);
    auto topic_arn = subscription_topic_.find(subscription_arn);
    if (topic_arn == subscription_topic_.end()) return done(SubscriptionNotFound());
    TopicState& topic = *topics_.at(topic_arn->second);
    Subscription& s = topic.subscriptions.at(subscription_arn);
    POSTBOX_RETURN_CALLBACK_IF_ERROR(done, ValidateSubscriptionAttribute(name, value, s.protocol));
    AttributeMap attributes = s.attributes;
    attributes[name] = NormalizeSubscriptionAttribute(name, value);
    if (value.empty() && (name == "FilterPolicy" || name == "RedrivePolicy")) {
      attributes.erase(name);  // setting an empty policy removes it
    }
    auto filter = CompileSubscriptionFilter(attributes);
    if (!filter.ok()) return done(filter.status());
    s.attributes = std::move(attributes);
    if (*filter) {
      topic.filters[subscription_arn] = *filter;
    } else {
      topic.filters.erase(subscription_arn);
    }
    updated = s;
  }
  PersistSubscription(updated, std::move(done));
}

// --- tags ---

void TopicService::TagResource(const std::string& arn, const AttributeMap& tags,
                               StatusCallback done) {
  Topic updated;
  {
    std::unique_lock lock(mu_);
    auto it = topics_.find(arn);
    if (it == topics_.end()) {
      return done(Status(ErrorCode::kResourceNotFound, "Resource does not exist"));
    }
    AttributeMap merged = it->second->topic.tags;
    for (const auto& [key, value] : tags) merged[key] = value;
    POSTBOX_RETURN_CALLBACK_IF_ERROR(done, ValidateTags(merged));
    it->second->topic.tags = std::move(merged);
    updated = it->second->topic;
  }
  PersistTopic(updated, std::move(done));
}

void TopicService::UntagResource(const std::string& arn, const std::vector<std::string>& keys,
                                 StatusCallback done) {
  Topic updated;
  {
    std::unique_lock lock(mu_);
    auto it = topics_.find(arn);
    if (it == topics_.end()) {
      return done(Status(ErrorCode::kResourceNotFound, "Resource does not exist"));
    }
    for (const auto& key : keys) it->second->topic.tags.erase(key);
    updated = it->second->topic;
  }
  PersistTopic(updated, std::move(done));
}

Result<AttributeMap> TopicService::ListTagsForResource(const std::string& arn) const {
  std::shared_lock lock(mu_);
  auto it = topics_.find(arn);
  if (it == topics_.end()) return Status(ErrorCode::kResourceNotFound, "Resource does not exist");
  return it->second->topic.tags;
}

// --- publishing ---

Status TopicService::ValidatePublish(const TopicState& state, const PublishRequest& request) const {
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
  POSTBOX_RETURN_IF_ERROR(ValidatePublishAttributes(request.attributes));
  if (state.topic.fifo) {
    if (!request.message_group_id || request.message_group_id->empty()) {
      return InvalidParameter("The MessageGroupId parameter is required for FIFO topics");
    }
    auto cbd = state.topic.attributes.find("ContentBasedDeduplication");
    bool content_based = cbd != state.topic.attributes.end() && cbd->second == "true";
    if (request.message_deduplication_id.empty() && !content_based) {
      return InvalidParameter(
          "The topic should either have ContentBasedDeduplication enabled or "
          "MessageDeduplicationId provided explicitly");
    }
  } else if (!request.message_deduplication_id.empty()) {
    return InvalidParameter(
        "MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter "
        "that is not valid for this topic type");
  }
  return Status::Ok();
}

void TopicService::Publish(const std::string& topic_arn, PublishRequest request,
                           const std::string& base_url,
                           std::function<void(Result<PublishResult>)> done) {
  std::vector<PublishRequest> one;
  one.push_back(std::move(request));
  PublishBatch(topic_arn, std::move(one), base_url,
               [done = std::move(done)](std::vector<Result<PublishResult>> results) {
                 done(std::move(results.front()));
               });
}

void TopicService::PublishBatch(const std::string& topic_arn,
                                std::vector<PublishRequest> requests, const std::string& base_url,
                                std::function<void(std::vector<Result<PublishResult>>)> done) {
  auto topic = FindTopic(topic_arn);
  if (!topic.ok()) {
    return done(std::vector<Result<PublishResult>>(requests.size(), topic.status()));
  }
  struct Pending {
    std::vector<Result<PublishResult>> results;
    std::atomic<size_t> remaining{0};
    std::function<void(std::vector<Result<PublishResult>>)> done;
  };
  auto pending = std::make_shared<Pending>();
  pending->done = std::move(done);
  pending->results.assign(requests.size(), Status(ErrorCode::kInternal, "not published"));
  // A bad entry fails the whole request, as AWS was seen to answer (not a per-entry failure).
  for (const auto& request : requests) {
    Status s = ValidatePublish(**topic, request);
    if (!s.ok()) return pending->done(std::vector<Result<PublishResult>>(requests.size(), s));
  }
  pending->remaining = requests.size();
  const TopicPtr& state = *topic;
  for (size_t i = 0; i < requests.size(); ++i) {
    auto finish = [pending, i](Result<PublishResult> result) {
      pending->results[i] = std::move(result);
      if (pending->remaining.fetch_sub(1) == 1) pending->done(std::move(pending->results));
    };
    PublishResult result;
    result.message_id = NewUuid();
    std::string deduplication_id;
    if (state->topic.fifo) {
      deduplication_id = DeduplicationId(requests[i]);
      std::unique_lock lock(mu_);
      if (auto original = state->deduplication.Find(deduplication_id, clock_.NowMillis())) {
        // A duplicate within the window: AWS answers with the original ids, delivers nothing.
        lock.unlock();
        finish(*original);
        continue;
      }
      last_sequence_ = std::max(last_sequence_ + 1, uint64_t(clock_.NowMillis()) << 16);
      result.sequence_number = SequenceNumber(last_sequence_);
      state->deduplication.Remember(deduplication_id, result, clock_.NowMillis());
    }
    FanOut(state, requests[i], result.message_id, result.sequence_number, base_url,
           [this, state, deduplication_id, result, finish](Status s) {
             if (!s.ok() && !deduplication_id.empty()) {
               std::unique_lock lock(mu_);
               state->deduplication.Forget(deduplication_id);  // not published: may be retried
             }
             finish(s.ok() ? Result<PublishResult>(result) : Result<PublishResult>(s));
           });
  }
}

void TopicService::FanOut(const TopicPtr& topic, const PublishRequest& request,
                          const std::string& message_id, const std::string& sequence_number,
                          const std::string& base_url, std::function<void(Status)> done) {
  struct QueueDelivery {
    Subscription subscription;
    QueuePtr queue;
  };
  std::vector<QueueDelivery> to_queues;
  std::vector<Subscription> to_endpoints;  // HTTP/S
  {
    std::shared_lock lock(mu_);
    std::optional<FilterInput> input;
    for (const auto& [arn, s] : topic->subscriptions) {
      const bool http = IsHttp(s.protocol) && outbox_ != nullptr;
      if (!s.confirmed || (s.protocol != "sqs" && !http)) continue;
      auto filter = topic->filters.find(arn);
      if (filter != topic->filters.end()) {
        if (!input) input.emplace(request.attributes, request.message);
        if (!filter->second->Matches(*input)) continue;
      }
      if (http) {
        to_endpoints.push_back(s);
        continue;
      }
      std::optional<QueueId> id = QueueIdFromArn(s.endpoint);
      auto queue = queues_.GetQueue(*id);
      if (!queue.ok()) {
        // AWS keeps retrying a missing queue, then gives up; nothing can be stored for it.
        spdlog::warn("event=sns_delivery_dropped subscription={} reason=\"queue {} does not exist\"",
                     arn, s.endpoint);
        continue;
      }
      to_queues.push_back({s, *queue});
    }
  }
  if (to_queues.empty() && to_endpoints.empty()) return done(Status::Ok());

  const int64_t now_ms = clock_.NowMillis();
  SignatureCache signatures;
  // The body a subscriber of `protocol` gets: the signed envelope, or the message itself.
  auto body_for = [&](const Subscription& s, bool* raw) {
    std::string text = MessageFor(request, s.protocol);
    auto raw_attribute = s.attributes.find("RawMessageDelivery");
    *raw = raw_attribute != s.attributes.end() && raw_attribute->second == "true";
    if (*raw) return text;
    EnvelopeFields fields;
    fields.type = "Notification";
    fields.message_id = message_id;
    fields.sequence_number = sequence_number;
    fields.topic_arn = topic->topic.arn;
    fields.subject = request.subject;
    fields.message = std::move(text);
    fields.timestamp = Iso8601Millis(now_ms);
    fields.unsubscribe_url = base_url + "/?Action=Unsubscribe&SubscriptionArn=" + s.arn;
    fields.attributes = request.attributes;
    return BuildEnvelope(fields, topic->topic, signer_, base_url, &signatures);
  };

  struct Tracker {
    std::atomic<size_t> remaining{0};
    std::mutex mu;
    Status status;
    std::function<void(Status)> done;
    void Fail(const Status& s) {
      std::lock_guard lock(mu);
      status = s;
    }
    void Arrive() {
      if (remaining.fetch_sub(1) == 1) {
        std::lock_guard lock(mu);
        done(status);
      }
    }
  };
  auto tracker = std::make_shared<Tracker>();
  tracker->remaining = to_queues.size() + (to_endpoints.empty() ? 0 : 1);
  tracker->done = std::move(done);

  if (!to_endpoints.empty()) {
    // Every HTTP/S delivery of this message in one fsync'd write to the outbox.
    storage::WriteBatch batch;
    std::vector<Delivery> staged;
    for (const Subscription& s : to_endpoints) {
      Delivery d = NewDelivery(*topic, s);
      d.message_type = "Notification";
      d.message_id = message_id;
      d.body = body_for(s, &d.raw);
      DeliveryOutbox::Stage(d, &batch);
      staged.push_back(std::move(d));
    }
    engine_.Commit(std::move(batch), storage::Durability::kSync,
                   [this, tracker, staged = std::move(staged)](Status s) mutable {
                     if (s.ok()) {
                       for (auto& d : staged) outbox_->Activate(std::move(d));
                     } else {
                       tracker->Fail(s);
                     }
                     tracker->Arrive();
                   });
  }

  const std::string deduplication_id = topic->topic.fifo ? DeduplicationId(request) : "";
  for (auto& delivery : to_queues) {
    const Subscription& s = delivery.subscription;
    NewMessage message;
    bool raw = false;
    message.body = body_for(s, &raw);
    if (raw) message.attributes = ToQueueAttributes(request.attributes);
    if (delivery.queue->fifo() || request.message_group_id) {
      message.message_group_id = request.message_group_id;
    }
    if (delivery.queue->fifo()) message.message_deduplication_id = deduplication_id;
    std::vector<NewMessage> batch;
    batch.push_back(std::move(message));
    queues_.SendMessages(
        delivery.queue, std::move(batch), topic->topic.account,
        [tracker, arn = s.arn](std::vector<Result<SentMessage>> results) {
          const Status& s = results.front().status();
          if (s.code() == ErrorCode::kStorageError || s.code() == ErrorCode::kInternal) {
            tracker->Fail(s);
          } else if (!s.ok()) {
            // The queue refuses this message (e.g. larger than its MaximumMessageSize):
            // AWS drops such deliveries too.
            spdlog::warn("event=sns_delivery_refused subscription={} code={} message=\"{}\"",
                         arn, ErrorCodeName(s.code()), s.message());
          }
          tracker->Arrive();
        });
  }
}

}  // namespace postbox::core
