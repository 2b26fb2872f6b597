#include "core/topic/topic_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "core/topic/sns_envelope.h"
#include "core/topic/topic_attributes.h"
#include "core/topic/topic_state.h"

namespace postbox::core {
namespace {

using nlohmann::json;

Status TopicNotFound() { return Status(ErrorCode::kNotFound, "Topic does not exist"); }
Status SubscriptionNotFound() {
  return Status(ErrorCode::kNotFound, "Subscription does not exist");
}

std::string TopicArnOf(const std::string& region, const std::string& account,
                       const std::string& name) {
  return "arn:aws:sns:" + region + ":" + account + ":" + name;
}

bool IsFifoName(const std::string& name) {
  return name.size() > 5 && name.compare(name.size() - 5, 5, ".fifo") == 0;
}

}  // namespace

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

Delivery TopicService::NewDelivery(const Topic& topic, const Subscription& s) const {
  Delivery d;
  d.id = NewUuid();
  d.topic_arn = topic.arn;
  d.subscription_arn = s.arn;
  d.endpoint = s.endpoint;
  auto own = s.attributes.find("DeliveryPolicy");
  auto inherited = topic.attributes.find("DeliveryPolicy");
  d.policy = EffectiveRetryPolicy(own == s.attributes.end() ? "" : own->second,
                                  inherited == topic.attributes.end() ? "" : inherited->second);
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
  Delivery d = NewDelivery(topic.topic, s);
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
  fields.subscribe_url =
      base_url + "/?Action=ConfirmSubscription&TopicArn=" + topic.topic.arn + "&Token=" + s.token;
  fields.timestamp = Iso8601Millis(clock_.NowMillis());
  d.body = BuildEnvelope(fields, topic.topic, signer_, base_url);
  return d;
}

Status TopicService::Load() {
  std::unique_lock lock(mu_);
  Status bad;
  storage::WriteBatch orphans;
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
        if (topic == topics_.end()) {  // its topic's deletion won the race: drop it
          orphans.DeleteRecord(storage::RecordKind::kSubscription, 0, s.arn);
          return;
        }
        auto filter = CompileSubscriptionFilter(s.attributes);
        if (!filter.ok()) {
          // Fail closed: a policy this version cannot compile filters out every message.
          spdlog::error("event=sns_filter_policy_unusable subscription={} message=\"{}\"", s.arn,
                        filter.status().message());
          topic->second->unusable_filters.insert(s.arn);
        } else if (*filter) {
          topic->second->filters[s.arn] = *filter;
        }
        subscription_topic_[s.arn] = s.topic_arn;
        topic->second->subscriptions[s.arn] = std::move(s);
      }));
  if (!orphans.ops().empty())
    engine_.Commit(std::move(orphans), storage::Durability::kLazy, nullptr);
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
                               const std::string& name, AttributeMap attributes, AttributeMap tags,
                               std::function<void(Result<std::string>)> done) {
  std::lock_guard order(commit_order_mu_);
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
  std::lock_guard order(commit_order_mu_);
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
  std::vector<std::string> subscriptions;
  for (const auto& [arn, s] : topic->subscriptions) {
    batch.DeleteRecord(storage::RecordKind::kSubscription, 0, arn);
    subscriptions.push_back(arn);
  }
  engine_.Commit(
      std::move(batch), storage::Durability::kSync,
      [this, subscriptions = std::move(subscriptions), done = std::move(done)](Status s) {
        if (s.ok() && outbox_ != nullptr) {
          for (const auto& arn : subscriptions) outbox_->CancelSubscription(arn);
        }
        done(s);
      });
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
  std::lock_guard order(commit_order_mu_);
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
  std::lock_guard order(commit_order_mu_);
  auto topic = FindTopic(topic_arn);
  if (!topic.ok()) return done(topic.status());
  const bool topic_fifo = (*topic)->topic.fifo;
  POSTBOX_RETURN_CALLBACK_IF_ERROR(done, ValidateEndpoint(protocol, endpoint, topic_fifo));
  if (protocol == "sqs") {
    std::optional<QueueId> queue_id = QueueId::FromArn(endpoint);
    if (!queue_id) return done(InvalidParameter("SQS endpoint ARN"));
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
      confirmation =
          ConfirmationDelivery(*it->second, subscription, "SubscriptionConfirmation", base_url);
    }
  }
  PersistSubscription(
      subscription,
      [this, subscription, done = std::move(done)](Status s) {
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
      },
      std::move(confirmation));
}

void TopicService::ConfirmSubscription(const std::string& topic_arn, const std::string& token,
                                       std::function<void(Result<std::string>)> done) {
  std::lock_guard order(commit_order_mu_);
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
  std::lock_guard order(commit_order_mu_);
  std::optional<Delivery> goodbye;
  {
    std::unique_lock lock(mu_);
    auto topic_arn = subscription_topic_.find(subscription_arn);
    // Unsubscribing twice is not an error (AWS answers 200 again).
    if (topic_arn == subscription_topic_.end()) return done(Status::Ok());
    auto topic = topics_.find(topic_arn->second);
    auto found = topic == topics_.end() ? nullptr : &topic->second->subscriptions;
    if (found != nullptr && found->count(subscription_arn)) {
      const Subscription& s = found->at(subscription_arn);
      // A confirmed HTTP/S endpoint is told, with a link that would subscribe it again.
      if (IsHttp(s.protocol) && s.confirmed && outbox_ != nullptr) {
        goodbye = ConfirmationDelivery(*topic->second, s, "UnsubscribeConfirmation", base_url);
      }
      topic->second->subscriptions.erase(subscription_arn);
      topic->second->filters.erase(subscription_arn);
      topic->second->unusable_filters.erase(subscription_arn);
      ++topic->second->deleted_subscriptions;
    }
    subscription_topic_.erase(topic_arn);
  }
  storage::WriteBatch batch;
  batch.DeleteRecord(storage::RecordKind::kSubscription, 0, subscription_arn);
  if (goodbye) DeliveryOutbox::Stage(*goodbye, &batch);
  engine_.Commit(std::move(batch), storage::Durability::kSync,
                 [this, subscription_arn, goodbye = std::move(goodbye),
                  done = std::move(done)](Status s) mutable {
                   if (s.ok() && outbox_ != nullptr) outbox_->CancelSubscription(subscription_arn);
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
  auto topic = topics_.find(topic_arn->second);
  if (topic == topics_.end()) return SubscriptionNotFound();
  auto subscription = topic->second->subscriptions.find(subscription_arn);
  if (subscription == topic->second->subscriptions.end()) return SubscriptionNotFound();
  return SubscriptionAttributes(subscription->second);
}

void TopicService::SetSubscriptionAttribute(const std::string& subscription_arn,
                                            const std::string& name, const std::string& value,
                                            StatusCallback done) {
  std::lock_guard order(commit_order_mu_);
  Subscription updated;
  {
    std::unique_lock lock(mu_);
    auto topic_arn = subscription_topic_.find(subscription_arn);
    if (topic_arn == subscription_topic_.end()) return done(SubscriptionNotFound());
    auto topic_it = topics_.find(topic_arn->second);
    if (topic_it == topics_.end() || !topic_it->second->subscriptions.count(subscription_arn)) {
      return done(SubscriptionNotFound());
    }
    TopicState& topic = *topic_it->second;
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
    topic.unusable_filters.erase(subscription_arn);
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
  std::lock_guard order(commit_order_mu_);
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
  std::lock_guard order(commit_order_mu_);
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

}  // namespace postbox::core
