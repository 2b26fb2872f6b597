#include "core/topic/topic_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/encoding.h"
#include "core/topic/sns_envelope.h"
#include "core/topic/topic_attributes.h"
#include "core/topic/topic_permissions.h"
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
                           const MessageSigner& signer, DeliveryOutbox* outbox, ConfigStore* config)
    : engine_(engine),
      clock_(clock),
      queues_(queues),
      signer_(signer),
      outbox_(outbox),
      own_config_(config == nullptr ? std::make_unique<ConfigStore>(engine) : nullptr),
      config_(config == nullptr ? *own_config_ : *config) {}

Delivery TopicService::NewDelivery(const Topic& topic, const Subscription& s) const {
  Delivery d;
  d.id = NewUuid();
  d.topic_arn = topic.arn;
  d.subscription_arn = s.arn;
  d.protocol = s.protocol;
  d.endpoint = s.endpoint;
  auto display_name = topic.attributes.find("DisplayName");
  if (display_name != topic.attributes.end()) d.from_name = display_name->second;
  auto own = s.attributes.find("DeliveryPolicy");
  auto inherited = topic.attributes.find("DeliveryPolicy");
  const std::string own_policy = own == s.attributes.end() ? "" : own->second;
  const std::string topic_policy = inherited == topic.attributes.end() ? "" : inherited->second;
  // DeliveryPolicy is for HTTP/S only; the other channels have AWS's fixed policy.
  d.policy =
      IsHttp(s.protocol) ? EffectiveRetryPolicy(own_policy, topic_policy) : managed_retry_policy_;
  d.content_type = EffectiveContentType(own_policy, topic_policy);
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
  if (s.protocol == "email") {
    // A person reads this one: the link, not a JSON document.
    d.subject = "AWS Notification - Subscription Confirmation";
    d.body = "You have chosen to subscribe to the topic:\n" + topic.topic.arn +
             "\n\nTo confirm this subscription, click or visit the link below (If this was in "
             "error no action is necessary):\n" +
             fields.subscribe_url + "\n";
    return d;
  }
  if (s.protocol == "email-json") d.subject = "AWS Notification - Subscription Confirmation";
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
        state->access_policy = ParsedTopicPolicy(state->topic);
        if (auto it = state->topic.attributes.find("Policy");
            it != state->topic.attributes.end() && !it->second.empty() && !state->access_policy) {
          // Stored by a version that did not evaluate policies: kept, granting nothing.
          spdlog::warn(
              "event=topic_policy_unreadable topic={} action=\"the topic's Policy grants "
              "nothing until it is set again (SetTopicAttributes)\"",
              state->topic.arn);
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
        // Stored as pending by a version that made every protocol but sqs confirm, though
        // nobody could: such a subscription counts as confirmed, as it would be now.
        if (ConfirmedAtOnce(s.protocol)) s.confirmed = true;
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

storage::WriteBatch TopicService::TopicWrite(const Topic& topic) {
  storage::WriteBatch batch;
  batch.PutRecord(storage::RecordKind::kTopic, 0, topic.arn, EncodeTopic(topic));
  return batch;
}

storage::WriteBatch TopicService::SubscriptionWrite(const Subscription& subscription,
                                                    const std::optional<Delivery>& delivery) {
  storage::WriteBatch batch;
  batch.PutRecord(storage::RecordKind::kSubscription, 0, subscription.arn,
                  EncodeSubscription(subscription));
  if (delivery && outbox_ != nullptr) DeliveryOutbox::Stage(*delivery, &batch);
  return batch;
}

void TopicService::ChangeTopic(const std::string& arn, ErrorCode missing, TopicEdit edit,
                               StatusCallback done) {
  config_.Submit([this, arn, missing, edit = std::move(edit),
                  done = std::move(done)]() -> ConfigStore::Change {
    Topic updated;
    {
      std::shared_lock lock(mu_);
      auto it = topics_.find(arn);
      if (it == topics_.end()) {
        Status gone = missing == ErrorCode::kNotFound
                          ? TopicNotFound()
                          : Status(ErrorCode::kResourceNotFound, "Resource does not exist");
        return ConfigStore::Answer([done, gone](Status) { done(gone); });
      }
      updated = it->second->topic;
    }
    if (Status s = edit(updated); !s.ok()) {
      return ConfigStore::Answer([done, s](Status) { done(s); });
    }
    return {TopicWrite(updated), [this, updated, done](Status s) {
              if (s.ok()) {
                auto access_policy = ParsedTopicPolicy(updated);  // before the lock: 30 KiB
                std::unique_lock lock(mu_);
                auto it = topics_.find(updated.arn);
                if (it != topics_.end()) {
                  it->second->topic = updated;
                  it->second->access_policy = std::move(access_policy);
                }
              }
              done(s);
            }};
  });
}

// --- topics ---

void TopicService::CreateTopic(const std::string& region, const std::string& account,
                               const std::string& name, AttributeMap attributes, AttributeMap tags,
                               std::function<void(Result<std::string>)> done) {
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
  config_.Submit([this, topic = std::move(topic), done = std::move(done)]() -> ConfigStore::Change {
    auto answer = [done](Result<std::string> r) {
      return ConfigStore::Answer([done, r = std::move(r)](Status) { done(r); });
    };
    {
      std::shared_lock lock(mu_);
      auto existing = topics_.find(topic.arn);
      if (existing != topics_.end()) {
        // Creating an existing topic is idempotent when nothing given differs from it.
        const Topic& old = existing->second->topic;
        for (const auto& [key, value] : topic.attributes) {
          auto it = old.attributes.find(key);
          if (it == old.attributes.end() || it->second != value) {
            return answer(InvalidParameter(
                "Attributes Reason: Topic already exists with different attributes"));
          }
        }
        // Tags the topic already has (all or some of them) are no difference, as on AWS.
        const bool tags_known =
            std::all_of(topic.tags.begin(), topic.tags.end(), [&old](const auto& tag) {
              auto it = old.tags.find(tag.first);
              return it != old.tags.end() && it->second == tag.second;
            });
        if (!tags_known) {
          return answer(InvalidParameter("Tags Reason: Topic already exists with different tags"));
        }
        return answer(old.arn);
      }
    }
    // Listed and published to only once durable.
    return {TopicWrite(topic), [this, topic, done](Status s) {
              if (!s.ok()) return done(s);
              {
                auto state = std::make_shared<TopicState>();
                state->topic = topic;
                state->access_policy = ParsedTopicPolicy(topic);
                std::unique_lock lock(mu_);
                topics_[topic.arn] = state;
              }
              done(topic.arn);
            }};
  });
}

void TopicService::DeleteTopic(const std::string& topic_arn, StatusCallback done) {
  config_.Submit([this, topic_arn, done = std::move(done)]() -> ConfigStore::Change {
    std::vector<std::string> subscriptions;
    {
      std::shared_lock lock(mu_);
      auto it = topics_.find(topic_arn);
      // Deleting a topic that does not exist is not an error (AWS DeleteTopic documentation).
      if (it == topics_.end()) return ConfigStore::Answer(done);
      for (const auto& [arn, s] : it->second->subscriptions) subscriptions.push_back(arn);
    }
    storage::WriteBatch batch;
    batch.DeleteRecord(storage::RecordKind::kTopic, 0, topic_arn);
    for (const auto& arn : subscriptions) {
      batch.DeleteRecord(storage::RecordKind::kSubscription, 0, arn);
    }
    return {std::move(batch), [this, topic_arn, done](Status s) {
              if (s.ok()) {
                std::vector<std::string> gone;
                {
                  std::unique_lock lock(mu_);
                  auto it = topics_.find(topic_arn);
                  if (it != topics_.end()) {
                    for (const auto& [arn, sub] : it->second->subscriptions) {
                      subscription_topic_.erase(arn);
                      gone.push_back(arn);
                    }
                    topics_.erase(it);
                  }
                }
                if (outbox_ != nullptr) {
                  for (const auto& arn : gone) outbox_->CancelSubscription(arn);
                }
              }
              done(s);
            }};
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

std::shared_ptr<const policy::Document> TopicService::QueueAccessPolicy(
    const std::string& queue_arn) const {
  const std::optional<QueueId> id = QueueId::FromArn(queue_arn);
  return id ? queues_.AccessPolicyOf(*id) : nullptr;
}

Result<std::shared_ptr<const policy::Document>> TopicService::TopicAccessPolicy(
    const std::string& topic_arn) const {
  std::shared_lock lock(mu_);
  auto it = topics_.find(topic_arn);
  if (it == topics_.end()) return TopicNotFound();
  return it->second->access_policy;
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
  ChangeTopic(
      topic_arn, ErrorCode::kNotFound,
      [name, value](Topic& topic) {
        POSTBOX_RETURN_IF_ERROR(ValidateTopicAttribute(name, value, topic.fifo));
        topic.attributes[name] = value;
        return Status::Ok();
      },
      std::move(done));
}

void TopicService::AddPermission(const std::string& topic_arn, const std::string& label,
                                 std::vector<std::string> accounts,
                                 std::vector<std::string> actions, StatusCallback done) {
  ChangeTopic(
      topic_arn, ErrorCode::kNotFound,
      [label, accounts = std::move(accounts), actions = std::move(actions)](Topic& topic) {
        return AddPermissionStatement(topic, label, accounts, actions);
      },
      std::move(done));
}

void TopicService::RemovePermission(const std::string& topic_arn, const std::string& label,
                                    StatusCallback done) {
  ChangeTopic(
      topic_arn, ErrorCode::kNotFound,
      [label](Topic& topic) { return RemovePermissionStatement(topic, label); }, std::move(done));
}

void TopicService::PutDataProtectionPolicy(const std::string& topic_arn, const std::string& policy,
                                           StatusCallback done) {
  SetTopicAttribute(topic_arn, "DataProtectionPolicy", policy, std::move(done));
}

Result<std::string> TopicService::GetDataProtectionPolicy(const std::string& topic_arn) const {
  std::shared_lock lock(mu_);
  auto it = topics_.find(topic_arn);
  if (it == topics_.end()) return TopicNotFound();
  const AttributeMap& attributes = it->second->topic.attributes;
  auto policy = attributes.find("DataProtectionPolicy");
  return policy != attributes.end() ? policy->second : std::string();
}

// --- subscriptions ---

void TopicService::Subscribe(const std::string& topic_arn, const std::string& protocol,
                             const std::string& endpoint, AttributeMap attributes,
                             const std::string& base_url, const std::string& subscriber_account,
                             std::function<void(Result<SubscribeResult>)> done) {
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
  POSTBOX_RETURN_CALLBACK_IF_ERROR(
      done, ToAttributesReason(CheckFifoDeadLetterQueue(topic_fifo, endpoint, attributes)));
  auto filter = CompileSubscriptionFilter(attributes);
  if (!filter.ok()) return done(ToAttributesReason(filter.status()));

  config_.Submit([this, topic_arn, protocol, endpoint, attributes = std::move(attributes), base_url,
                  subscriber_account, filter = *filter,
                  done = std::move(done)]() -> ConfigStore::Change {
    auto answer = [done](Result<SubscribeResult> r) {
      return ConfigStore::Answer([done, r = std::move(r)](Status) { done(r); });
    };
    Subscription subscription;
    std::optional<Delivery> confirmation;
    {
      std::shared_lock lock(mu_);
      auto it = topics_.find(topic_arn);
      if (it == topics_.end()) return answer(TopicNotFound());
      for (const auto& [arn, existing] : it->second->subscriptions) {
        if (existing.protocol == protocol && existing.endpoint == endpoint) {
          // The queue's own account subscribing it again takes the subscription over from
          // another account that subscribed it (and that the queue's policy may not let in),
          // with the owner's attributes: a grant of Subscribe to others must not keep the
          // owner from its own queue, nor leave it the other account's filter or dead-letter
          // queue. (An empty subscriber_account, stored before it was kept, is trusted.)
          const std::optional<QueueId> queue =
              protocol == "sqs" ? QueueId::FromArn(endpoint) : std::nullopt;
          if (queue && !subscriber_account.empty() && queue->account == subscriber_account &&
              !existing.subscriber_account.empty() &&
              existing.subscriber_account != subscriber_account) {
            Subscription taken = existing;
            taken.subscriber_account = subscriber_account;
            taken.attributes = attributes;
            return {SubscriptionWrite(taken, std::nullopt), [this, taken, done](Status s) {
                      if (!s.ok()) return done(s);
                      StoreSubscriptionInMemory(taken);
                      done(SubscribeResult{taken.arn, !taken.confirmed});
                    }};
          }
          // Subscribing again is idempotent unless it asks for different attributes.
          for (const auto& [name, value] : attributes) {
            auto old = existing.attributes.find(name);
            // A default value asked again is no difference (AWS returns the subscription).
            bool is_default = (name == "RawMessageDelivery" && value == "false") ||
                              (name == "FilterPolicyScope" && value == "MessageAttributes");
            if (old == existing.attributes.end() ? !is_default : old->second != value) {
              return answer(InvalidParameter(
                  "Attributes Reason: Subscription already exists with different attributes"));
            }
          }
          return answer(SubscribeResult{existing.arn, !existing.confirmed});
        }
      }
      subscription.arn = topic_arn + ":" + NewUuid();
      subscription.topic_arn = topic_arn;
      subscription.protocol = protocol;
      subscription.endpoint = endpoint;
      subscription.owner = it->second->topic.account;
      subscription.subscriber_account = subscriber_account;
      subscription.confirmed = ConfirmedAtOnce(protocol);
      // Unguessable (OpenSSL's generator, not the fast one behind ids): it confirms.
      if (!subscription.confirmed) subscription.token = HexEncode(RandomBytes(32));
      subscription.attributes = attributes;
      // A chat webhook cannot confirm; its URL is the owner's secret: confirmed at once.
      if (IsHttp(protocol) && !ChatFormatOf(attributes).empty()) {
        subscription.confirmed = true;
        subscription.token.clear();
      }
      if ((IsHttp(protocol) && !subscription.confirmed) ||
          (IsEmail(protocol) && outbox_ != nullptr && outbox_->HasChannel(protocol))) {
        confirmation =
            ConfirmationDelivery(*it->second, subscription, "SubscriptionConfirmation", base_url);
      }
    }
    // The subscription and its confirmation request are stored in one write; both take
    // effect once it is durable.
    storage::WriteBatch batch = SubscriptionWrite(subscription, confirmation);
    return {std::move(batch), [this, subscription, filter, confirmation, done](Status s) mutable {
              if (!s.ok()) return done(s);
              {
                std::unique_lock lock(mu_);
                auto it = topics_.find(subscription.topic_arn);
                if (it != topics_.end()) {
                  it->second->subscriptions[subscription.arn] = subscription;
                  if (filter) it->second->filters[subscription.arn] = filter;
                  subscription_topic_[subscription.arn] = subscription.topic_arn;
                }
              }
              if (confirmation && outbox_ != nullptr) outbox_->Activate(std::move(*confirmation));
              const bool delivered =
                  subscription.protocol == "sqs" || IsHttp(subscription.protocol) ||
                  (confirmation && IsEmail(subscription.protocol)) ||
                  ((subscription.protocol == "sms" || subscription.protocol == "application") &&
                   outbox_ != nullptr && outbox_->HasChannel(subscription.protocol));
              if (!delivered) {
                spdlog::warn(
                    "event=subscription_without_delivery subscription={} protocol={} "
                    "effect=\"stored, but this server does not deliver to this protocol (not "
                    "implemented, or its provider is not configured)\"",
                    subscription.arn, subscription.protocol);
              }
              done(SubscribeResult{subscription.arn, !subscription.confirmed});
            }};
  });
}

void TopicService::ConfirmSubscription(const std::string& topic_arn, const std::string& token,
                                       bool authenticate_on_unsubscribe,
                                       std::function<void(Result<std::string>)> done) {
  config_.Submit([this, topic_arn, token, authenticate_on_unsubscribe,
                  done = std::move(done)]() -> ConfigStore::Change {
    auto answer = [done](Result<std::string> r) {
      return ConfigStore::Answer([done, r = std::move(r)](Status) { done(r); });
    };
    Subscription confirmed;
    {
      std::shared_lock lock(mu_);
      auto it = topics_.find(topic_arn);
      // AWS names the token, not the topic, when the topic does not exist.
      if (it == topics_.end()) return answer(InvalidParameter("Token"));
      const Subscription* match = nullptr;
      for (const auto& [arn, s] : it->second->subscriptions) {
        if (!s.token.empty() && s.token == token) match = &s;
      }
      if (match == nullptr) {
        // AWS tells a malformed token from a well-formed one that matches nothing.
        bool well_formed =
            token.size() >= 64 && std::all_of(token.begin(), token.end(), ::isxdigit);
        return answer(well_formed ? InvalidParameter("Token")
                                  : Status(ErrorCode::kInvalidParameter, "Invalid token"));
      }
      // Confirming again changes nothing, unless it now asks for signed unsubscribes.
      if (match->confirmed &&
          (match->authenticate_on_unsubscribe || !authenticate_on_unsubscribe)) {
        return answer(match->arn);
      }
      confirmed = *match;
    }
    confirmed.confirmed = true;
    // Only ever set: an unsigned confirmation cannot lift what a signed one asked for.
    confirmed.authenticate_on_unsubscribe |= authenticate_on_unsubscribe;
    return {SubscriptionWrite(confirmed, std::nullopt), [this, confirmed, done](Status s) {
              if (!s.ok()) return done(s);
              StoreSubscriptionInMemory(confirmed);
              done(confirmed.arn);
            }};
  });
}

namespace {

// Only subscriptions whose UnsubscribeURL goes to people or web endpoints (http/s, email)
// may be ended by an unsigned visit, and not those confirmed with AuthenticateOnUnsubscribe.
// A queue's or a device's subscription needs its owner's signature, although its envelopes
// carry the link too (AWS takes it unsigned): anyone who can read one message must not be
// able to cut a queue off a topic.
bool UnsignedUnsubscribeAllowed(const Subscription& s) {
  return (IsHttp(s.protocol) || IsEmail(s.protocol)) && !s.authenticate_on_unsubscribe;
}

}  // namespace

void TopicService::Unsubscribe(const std::string& subscription_arn, const std::string& base_url,
                               bool unsigned_link, StatusCallback done) {
  config_.Submit([this, subscription_arn, base_url, unsigned_link,
                  done = std::move(done)]() -> ConfigStore::Change {
    std::optional<Delivery> goodbye;
    {
      std::shared_lock lock(mu_);
      auto topic_arn = subscription_topic_.find(subscription_arn);
      // Unsubscribing twice is not an error (AWS answers 200 again).
      if (topic_arn == subscription_topic_.end()) return ConfigStore::Answer(done);
      auto topic = topics_.find(topic_arn->second);
      if (topic != topics_.end()) {
        auto found = topic->second->subscriptions.find(subscription_arn);
        if (unsigned_link && found != topic->second->subscriptions.end() &&
            !UnsignedUnsubscribeAllowed(found->second)) {
          return ConfigStore::Answer([done](Status) {
            done(Status(ErrorCode::kMissingAuthenticationToken,
                        "Request is missing Authentication Token"));
          });
        }
        // A confirmed HTTP/S endpoint is told, with a link that would subscribe it again;
        // a chat webhook is not (people would read an SNS document).
        if (found != topic->second->subscriptions.end() && IsHttp(found->second.protocol) &&
            found->second.confirmed && ChatFormatOf(found->second.attributes).empty() &&
            outbox_ != nullptr) {
          goodbye = ConfirmationDelivery(*topic->second, found->second, "UnsubscribeConfirmation",
                                         base_url);
        }
      }
    }
    storage::WriteBatch batch;
    batch.DeleteRecord(storage::RecordKind::kSubscription, 0, subscription_arn);
    if (goodbye) DeliveryOutbox::Stage(*goodbye, &batch);
    return {std::move(batch), [this, subscription_arn, goodbye, done](Status s) mutable {
              if (!s.ok()) return done(s);
              {
                std::unique_lock lock(mu_);
                auto topic_arn = subscription_topic_.find(subscription_arn);
                if (topic_arn != subscription_topic_.end()) {
                  auto topic = topics_.find(topic_arn->second);
                  if (topic != topics_.end() &&
                      topic->second->subscriptions.erase(subscription_arn) > 0) {
                    topic->second->filters.erase(subscription_arn);
                    topic->second->unusable_filters.erase(subscription_arn);
                    ++topic->second->deleted_subscriptions;
                  }
                  subscription_topic_.erase(topic_arn);
                }
              }
              if (outbox_ != nullptr) {
                outbox_->CancelSubscription(subscription_arn);
                if (goodbye) outbox_->Activate(std::move(*goodbye));
              }
              done(s);
            }};
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
  const AttributeMap& topic_attributes = topic->second->topic.attributes;
  auto topic_policy = topic_attributes.find("DeliveryPolicy");
  return SubscriptionAttributes(subscription->second, topic_policy != topic_attributes.end()
                                                          ? topic_policy->second
                                                          : std::string());
}

void TopicService::SetSubscriptionAttribute(const std::string& subscription_arn,
                                            const std::string& name, const std::string& value,
                                            StatusCallback done) {
  config_.Submit([this, subscription_arn, name, value,
                  done = std::move(done)]() -> ConfigStore::Change {
    auto refuse = [done](Status s) { return ConfigStore::Answer([done, s](Status) { done(s); }); };
    Subscription updated;
    bool topic_fifo = false;
    {
      std::shared_lock lock(mu_);
      auto topic_arn = subscription_topic_.find(subscription_arn);
      if (topic_arn == subscription_topic_.end()) return refuse(SubscriptionNotFound());
      auto topic_it = topics_.find(topic_arn->second);
      if (topic_it == topics_.end() || !topic_it->second->subscriptions.count(subscription_arn)) {
        return refuse(SubscriptionNotFound());
      }
      updated = topic_it->second->subscriptions.at(subscription_arn);
      topic_fifo = topic_it->second->topic.fifo;
    }
    if (Status s = ValidateSubscriptionAttribute(name, value, updated.protocol); !s.ok()) {
      return refuse(s);
    }
    if (name == kChatFormatAttribute && value.empty() &&
        !ChatFormatOf(updated.attributes).empty()) {
      // Confirmed at once because it is a chat webhook: as a plain http subscription it would
      // get SNS documents without its owner ever confirming them.
      return refuse(InvalidParameter(std::string(kChatFormatAttribute) +
                                     ": cannot be removed from a chat subscription (it was "
                                     "confirmed without a handshake); unsubscribe and subscribe "
                                     "the URL again"));
    }
    updated.attributes[name] = NormalizeSubscriptionAttribute(name, value);
    if (value.empty() && (name == "FilterPolicy" || name == "RedrivePolicy")) {
      updated.attributes.erase(name);  // setting an empty policy removes it
    }
    // Only a new RedrivePolicy is held to the rule: a subscription stored before it keeps
    // working, and its other attributes stay editable.
    if (name == "RedrivePolicy") {
      Status fifo_rule = CheckFifoDeadLetterQueue(topic_fifo, updated.endpoint, updated.attributes);
      if (!fifo_rule.ok()) return refuse(fifo_rule);
    }
    auto filter = CompileSubscriptionFilter(updated.attributes);
    if (!filter.ok()) return refuse(filter.status());
    return {SubscriptionWrite(updated, std::nullopt), [this, updated, done](Status s) {
              if (s.ok()) StoreSubscriptionInMemory(updated);
              done(s);
            }};
  });
}

void TopicService::StoreSubscriptionInMemory(const Subscription& subscription) {
  auto filter = CompileSubscriptionFilter(subscription.attributes);
  std::unique_lock lock(mu_);
  auto topic = topics_.find(subscription.topic_arn);
  if (topic == topics_.end()) return;  // deleted since: its deletion was stored after this
  auto it = topic->second->subscriptions.find(subscription.arn);
  if (it == topic->second->subscriptions.end()) return;  // unsubscribed since, likewise
  it->second = subscription;
  topic->second->filters.erase(subscription.arn);
  topic->second->unusable_filters.erase(subscription.arn);
  if (!filter.ok()) {
    // Fail closed, as at load: a policy that cannot compile filters out every message.
    topic->second->unusable_filters.insert(subscription.arn);
  } else if (*filter) {
    topic->second->filters[subscription.arn] = *filter;
  }
}

// --- tags ---

void TopicService::TagResource(const std::string& arn, const AttributeMap& tags,
                               StatusCallback done) {
  ChangeTopic(
      arn, ErrorCode::kResourceNotFound,
      [tags](Topic& topic) {
        AttributeMap merged = topic.tags;
        for (const auto& [key, value] : tags) merged[key] = value;
        POSTBOX_RETURN_IF_ERROR(ValidateTags(merged));
        topic.tags = std::move(merged);
        return Status::Ok();
      },
      std::move(done));
}

void TopicService::UntagResource(const std::string& arn, const std::vector<std::string>& keys,
                                 StatusCallback done) {
  ChangeTopic(
      arn, ErrorCode::kResourceNotFound,
      [keys](Topic& topic) {
        for (const auto& key : keys) topic.tags.erase(key);
        return Status::Ok();
      },
      std::move(done));
}

Result<AttributeMap> TopicService::ListTagsForResource(const std::string& arn) const {
  std::shared_lock lock(mu_);
  auto it = topics_.find(arn);
  if (it == topics_.end()) return Status(ErrorCode::kResourceNotFound, "Resource does not exist");
  return it->second->topic.tags;
}

}  // namespace postbox::core
