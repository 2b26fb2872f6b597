// TopicService: the SNS operations on topics and subscriptions, protocol-free.
//
// Topics and subscriptions are stored as records through the ConfigStore: each change is
// durable, in order, before memory shows it and a callback reports success. Publish fans a message
// out to the topic's confirmed subscriptions: to SQS queues in this server it sends the SNS
// envelope (or, with RawMessageDelivery, the message itself) through QueueService; to HTTP/S
// endpoints (and chat webhooks), email addresses, phones (sms) and devices (application) it
// stores deliveries in the DeliveryOutbox, when this server has a channel for the protocol. It
// answers only when every queue and the outbox have stored the message, so an acknowledged
// publish is never lost. HTTP/S and email subscriptions get a SubscriptionConfirmation whose
// SubscribeURL points back here; sms, application and chat-webhook subscriptions are confirmed
// at once. Lambda and firehose subscriptions are stored but not delivered to (README).
//
// Callbacks run exactly once, possibly on a storage thread. Thread-safety: all methods are
// safe from any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "core/config/config_store.h"
#include "core/policy/access_policy.h"
#include "core/queue/message.h"
#include "core/queue/queue_service.h"
#include "core/topic/delivery_outbox.h"
#include "core/topic/message_signer.h"
#include "core/topic/publish_request.h"
#include "core/topic/topic.h"
#include "storage/engine.h"

namespace postbox::core {

struct PublishResult {
  std::string message_id;
  std::string sequence_number;  // FIFO topics only
};

struct SubscribeResult {
  std::string subscription_arn;
  bool pending = false;
};

class TopicService {
 public:
  // `outbox` may be null (then HTTP/S subscriptions are stored but never contacted).
  // `config`: the ConfigStore shared with the other services (null: one of its own).
  TopicService(storage::Engine& engine, const Clock& clock, QueueService& queues,
               const MessageSigner& signer, DeliveryOutbox* outbox = nullptr,
               ConfigStore* config = nullptr);

  // Rebuilds topics and subscriptions from storage. Call once, before serving.
  Status Load();
  // The retry policy of email (and later SMS and push) deliveries, AWS's fixed one unless
  // configured otherwise (delivery.* settings). Call before serving.
  void SetManagedRetryPolicy(const RetryPolicy& policy) { managed_retry_policy_ = policy; }

  // --- topics ---
  void CreateTopic(const std::string& region, const std::string& account, const std::string& name,
                   AttributeMap attributes, AttributeMap tags,
                   std::function<void(Result<std::string>)> done);
  void DeleteTopic(const std::string& topic_arn, StatusCallback done);
  // ARNs of the account's topics in the region, sorted.
  std::vector<std::string> ListTopics(const std::string& region, const std::string& account) const;
  // The Policy of the queue a subscription would deliver to, for access checks; null when
  // the queue has none or does not exist.
  std::shared_ptr<const policy::Document> QueueAccessPolicy(const std::string& queue_arn) const;
  // The topic's Policy as parsed, for access checks; null when it has none.
  Result<std::shared_ptr<const policy::Document>> TopicAccessPolicy(
      const std::string& topic_arn) const;
  Result<AttributeMap> GetTopicAttributes(const std::string& topic_arn) const;
  // Statements of the topic's Policy, by label (topic_permissions.h).
  void AddPermission(const std::string& topic_arn, const std::string& label,
                     std::vector<std::string> accounts, std::vector<std::string> actions,
                     StatusCallback done);
  void RemovePermission(const std::string& topic_arn, const std::string& label,
                        StatusCallback done);
  // The topic's data protection policy, stored and returned ("" when none); not applied.
  void PutDataProtectionPolicy(const std::string& topic_arn, const std::string& policy,
                               StatusCallback done);
  Result<std::string> GetDataProtectionPolicy(const std::string& topic_arn) const;
  void SetTopicAttribute(const std::string& topic_arn, const std::string& name,
                         const std::string& value, StatusCallback done);

  // --- subscriptions ---
  // `base_url`: how the caller reached this server; HTTP/S confirmations point there.
  // `subscriber_account`: the caller's account (empty: the topic's).
  void Subscribe(const std::string& topic_arn, const std::string& protocol,
                 const std::string& endpoint, AttributeMap attributes, const std::string& base_url,
                 const std::string& subscriber_account,
                 std::function<void(Result<SubscribeResult>)> done);
  // `authenticate_on_unsubscribe`: a signed request asked that only signed requests may
  // unsubscribe (AuthenticateOnUnsubscribe=true).
  void ConfirmSubscription(const std::string& topic_arn, const std::string& token,
                           bool authenticate_on_unsubscribe,
                           std::function<void(Result<std::string>)> done);
  // `unsigned_link`: an unsigned visit of the UnsubscribeURL. It may end only subscriptions
  // that are sent one (http/s, email, email-json) and that did not ask for signed
  // unsubscribes; others are refused with kMissingAuthenticationToken.
  void Unsubscribe(const std::string& subscription_arn, const std::string& base_url,
                   bool unsigned_link, StatusCallback done);
  // Sorted by topic, then subscription ARN. An empty topic ARN lists the account's all.
  std::vector<Subscription> ListSubscriptions(const std::string& region,
                                              const std::string& account) const;
  Result<std::vector<Subscription>> ListSubscriptionsByTopic(const std::string& topic_arn) const;
  Result<AttributeMap> GetSubscriptionAttributes(const std::string& subscription_arn) const;
  void SetSubscriptionAttribute(const std::string& subscription_arn, const std::string& name,
                                const std::string& value, StatusCallback done);

  // --- tags (topics are the only taggable SNS resource) ---
  void TagResource(const std::string& arn, const AttributeMap& tags, StatusCallback done);
  void UntagResource(const std::string& arn, const std::vector<std::string>& keys,
                     StatusCallback done);
  Result<AttributeMap> ListTagsForResource(const std::string& arn) const;

  // --- publishing ---
  // `base_url` is how the publisher reached this server ("http://127.0.0.1:9324"): the
  // envelope's SigningCertURL and UnsubscribeURL point there.
  void Publish(const std::string& topic_arn, PublishRequest request, const std::string& base_url,
               std::function<void(Result<PublishResult>)> done);
  // Per-entry results in order. An invalid entry fails them all with its error (AWS rejects
  // the whole request); storage failures are per entry.
  void PublishBatch(const std::string& topic_arn, std::vector<PublishRequest> requests,
                    const std::string& base_url,
                    std::function<void(std::vector<Result<PublishResult>>)> done);

 private:
  struct TopicState;
  using TopicPtr = std::shared_ptr<TopicState>;

  Result<TopicPtr> FindTopic(const std::string& arn) const;
  Status ValidatePublish(const Topic& topic, const PublishRequest& request) const;
  static storage::WriteBatch TopicWrite(const Topic& topic);
  // The subscription's record, and `delivery` (a confirmation request) in the same write.
  storage::WriteBatch SubscriptionWrite(const Subscription& subscription,
                                        const std::optional<Delivery>& delivery);
  // A change to a topic through the ConfigStore: `edit` changes a copy of it (or refuses), the
  // copy is stored, then it replaces the topic in memory and the change is answered. A missing
  // topic is answered with `missing` (kNotFound, or kResourceNotFound for the tag actions).
  using TopicEdit = std::function<Status(Topic& topic)>;
  void ChangeTopic(const std::string& arn, ErrorCode missing, TopicEdit edit, StatusCallback done);
  // Replaces a stored subscription in memory, with its filter (if it still exists).
  void StoreSubscriptionInMemory(const Subscription& subscription);
  // A signed confirmation request (SubscriptionConfirmation / UnsubscribeConfirmation).
  Delivery ConfirmationDelivery(const TopicState& topic, const Subscription& subscription,
                                const std::string& type, const std::string& base_url) const;
  Delivery NewDelivery(const Topic& topic, const Subscription& subscription) const;
  RetryPolicy managed_retry_policy_ = ManagedRetryPolicy();
  // Sends one validated message to every matching subscription; `done` runs once all stored.
  // `snapshot`: the topic's settings as they were when the publish began (read under the lock,
  // as SetTopicAttributes may change them meanwhile).
  void FanOut(const TopicPtr& topic, const Topic& snapshot, const PublishRequest& request,
              const std::string& message_id, const std::string& sequence_number,
              const std::string& base_url, std::function<void(Status)> done);

  storage::Engine& engine_;
  const Clock& clock_;
  QueueService& queues_;
  const MessageSigner& signer_;
  DeliveryOutbox* outbox_;
  // Every configuration change goes through it: stored in order, then applied to memory.
  std::unique_ptr<ConfigStore> own_config_;
  ConfigStore& config_;
  mutable std::shared_mutex mu_;
  std::map<std::string, TopicPtr> topics_;                 // by ARN (sorted for listing)
  std::map<std::string, std::string> subscription_topic_;  // subscription ARN -> topic ARN
  uint64_t last_sequence_ = 0;                             // FIFO topics' SequenceNumber
};

// SNS topic names: 1-256 of [A-Za-z0-9_-], FIFO names end in ".fifo".
Status ValidateTopicName(const std::string& name, bool fifo);

}  // namespace postbox::core
