// TopicService's publishing half: validation of Publish / PublishBatch, FIFO deduplication,
// and the fan-out to queues and to the HTTP/S outbox.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>

#include "base/check.h"
#include "base/encoding.h"
#include "channels/push/fcm_message.h"
#include "core/policy/access_check.h"
#include "core/queue/message_rules.h"
#include "core/topic/sns_envelope.h"
#include "core/topic/topic_attributes.h"
#include "core/topic/topic_service.h"
#include "core/topic/topic_state.h"

namespace postbox::core {
namespace {

// SNS delivers to a queue as the service principal "sns.amazonaws.com" for the topic: the
// queue's Policy may deny it, and must allow it unless the topic, the queue and whoever
// subscribed the queue are all one account (else another account granted Subscribe on a
// topic could make it write into the topic owner's queues).
bool TopicMaySendTo(const Queue& queue, const std::string& topic_arn,
                    const std::string& subscriber_account) {
  const auto queue_policy = queue.access_policy();
  const std::string queue_arn = queue.id().Arn();
  policy::Caller caller;
  caller.service = "sns.amazonaws.com";
  caller.source_arn = topic_arn;
  caller.acting_for = subscriber_account;
  policy::Target target;
  target.action = "sqs:SendMessage";
  target.resource = queue_arn;
  target.resource_account = queue.id().account;
  target.resource_policy = queue_policy.get();
  return policy::Authorize(caller, target) == policy::Decision::kAllowed;
}

}  // namespace

namespace {

using nlohmann::json;

// SNS attribute types reach SQS as SQS types: String.Array has no SQS equivalent and travels
// as a String holding the JSON array, as on AWS.
MessageAttributes ToQueueAttributes(const MessageAttributes& attributes) {
  MessageAttributes out;
  for (const auto& [name, value] : attributes) {
    // SNS's own AWS.* settings (SMS sender, push options) are for SNS; a queue would refuse
    // the whole message for such a name, so they are left out.
    if (HasReservedAttributePrefix(name)) continue;
    AttributeValue& copy = out[name] = value;
    if (copy.data_type == "String.Array") copy.data_type = "String";
  }
  return out;
}

// What an `email` subscriber reads: the message, then how to stop these mails.
std::string EmailText(const std::string& message, const std::string& unsubscribe_url) {
  return message +
         "\n\n--\nIf you wish to stop receiving notifications from this topic, please click or "
         "visit the link below to unsubscribe:\n" +
         unsubscribe_url + "\n";
}

// What an `application` (push) subscriber's device gets; a GCM entry FCM could not take falls
// back to the text, so that the device still hears about it.
std::string PushMessage(const PublishRequest& request) {
  auto message = PushMessageFor(request);
  if (message.ok()) return *message;
  return *channels::FcmMessageFromSns("", StructureEntry(request, "default"));
}

// An SNS SMS setting the publisher gave as a message attribute, or "".
std::string SmsAttribute(const MessageAttributes& attributes, const char* name) {
  auto it = attributes.find(name);
  return it == attributes.end() ? std::string() : it->second.string_value;
}

// The deduplication id of a FIFO publish: the given one, or with ContentBasedDeduplication the
// SHA-256 of the message (not of its attributes).
std::string DeduplicationId(const PublishRequest& request) {
  return request.message_deduplication_id.empty() ? Sha256Hex(request.message)
                                                  : request.message_deduplication_id;
}

}  // namespace

Status TopicService::ValidatePublish(const Topic& topic, const PublishRequest& request) const {
  POSTBOX_RETURN_IF_ERROR(ValidatePublishRequest(request));
  for (const auto& [name, value] : {std::pair<const char*, std::string>{
                                        "MessageGroupId", request.message_group_id.value_or("")},
                                    {"MessageDeduplicationId", request.message_deduplication_id}}) {
    // Each queue would refuse a malformed id: refuse the publish rather than lose it later.
    if (Status s = ValidateFifoToken(name, value); !value.empty() && !s.ok()) {
      return InvalidParameter(std::string(name) + " Reason: " + s.message());
    }
  }
  if (topic.fifo) {
    if (!request.message_group_id || request.message_group_id->empty()) {
      return InvalidParameter("The MessageGroupId parameter is required for FIFO topics");
    }
    auto cbd = topic.attributes.find("ContentBasedDeduplication");
    bool content_based = cbd != topic.attributes.end() && cbd->second == "true";
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

void TopicService::PublishBatch(const std::string& topic_arn, std::vector<PublishRequest> requests,
                                const std::string& base_url,
                                std::function<void(std::vector<Result<PublishResult>>)> done) {
  auto topic = FindTopic(topic_arn);
  if (!topic.ok()) {
    return done(std::vector<Result<PublishResult>>(requests.size(), topic.status()));
  }
  Topic snapshot;
  {
    std::shared_lock lock(mu_);
    snapshot = (*topic)->topic;
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
    Status s = ValidatePublish(snapshot, request);
    if (!s.ok()) return pending->done(std::vector<Result<PublishResult>>(requests.size(), s));
  }
  // Once for the whole request, before anything is written: a publish is refused whole (and
  // retried whole), never stored in some of its queues and refused in others.
  if (Status s = engine_.AdmitNewData(); !s.ok()) {
    return pending->done(std::vector<Result<PublishResult>>(requests.size(), s));
  }
  pending->remaining = requests.size();
  const TopicPtr& state = *topic;
  for (size_t i = 0; i < requests.size(); ++i) {
    auto finish = [pending, i](Result<PublishResult> result) {
      pending->results[i] = std::move(result);
      if (pending->remaining.fetch_sub(1) == 1) pending->done(std::move(pending->results));
    };
    PublishResult result;
    const UuidBytes id_bytes = NewUuidBytes();
    result.message_id = FormatUuid(id_bytes);
    std::optional<DeduplicationHash> deduplication_key;  // FIFO topics only
    uint64_t sequence = 0;
    if (snapshot.fifo) {
      deduplication_key = HashDeduplicationKey(DeduplicationId(requests[i]));  // outside the lock
      std::unique_lock lock(mu_);
      if (auto original = state->deduplication.Find(*deduplication_key, clock_.NowMillis())) {
        // A duplicate within the window: AWS answers with the original ids, delivers nothing.
        lock.unlock();
        finish(*original);
        continue;
      }
      last_sequence_ = std::max(last_sequence_ + 1, uint64_t(clock_.NowMillis()) << 16);
      sequence = last_sequence_;
      result.sequence_number = SequenceNumber(sequence);
    }
    FanOut(state, snapshot, requests[i], result.message_id, result.sequence_number, base_url,
           [this, state, deduplication_key, id_bytes, sequence, result, finish](Status s) {
             if (s.ok() && deduplication_key) {
               // Remembered once stored, so that a duplicate is never acknowledged before its
               // original is durable; a duplicate racing the original is published again, and
               // the FIFO queues' own deduplication still delivers it once.
               std::unique_lock lock(mu_);
               state->deduplication.Remember(*deduplication_key, id_bytes, sequence,
                                             clock_.NowMillis());
             }
             finish(s.ok() ? Result<PublishResult>(result) : Result<PublishResult>(s));
           });
  }
}

void TopicService::FanOut(const TopicPtr& topic, const Topic& snapshot,
                          const PublishRequest& request, const std::string& message_id,
                          const std::string& sequence_number, const std::string& base_url,
                          std::function<void(Status)> done) {
  struct QueueDelivery {
    Subscription subscription;
    QueuePtr queue;
  };
  std::vector<QueueDelivery> to_queues;
  std::vector<Subscription> to_endpoints;  // HTTP/S (and chat), email, SMS and push
  {
    std::shared_lock lock(mu_);
    std::optional<FilterInput> input;
    for (const auto& [arn, s] : topic->subscriptions) {
      // HTTP/S, email, SMS and push go through the outbox (when this server has a channel).
      const bool outside = (IsHttp(s.protocol) || IsEmail(s.protocol) || s.protocol == "sms" ||
                            s.protocol == "application") &&
                           outbox_ != nullptr && outbox_->HasChannel(s.protocol);
      if (!s.confirmed || (s.protocol != "sqs" && !outside)) continue;
      if (topic->unusable_filters.count(arn)) continue;
      auto filter = topic->filters.find(arn);
      if (filter != topic->filters.end()) {
        if (!input) input.emplace(request.attributes, request.message);
        if (!filter->second->Matches(*input)) continue;
      }
      if (outside) {
        to_endpoints.push_back(s);
        continue;
      }
      std::optional<QueueId> id = QueueId::FromArn(s.endpoint);
      auto queue = id ? queues_.GetQueue(*id) : Result<QueuePtr>(Status(ErrorCode::kNotFound, ""));
      if (!queue.ok()) {
        // AWS keeps retrying a missing queue, then gives up; nothing can be stored for it.
        spdlog::warn(
            "event=sns_delivery_dropped subscription={} reason=\"queue {} does not exist\"", arn,
            s.endpoint);
        continue;
      }
      if (!TopicMaySendTo(**queue, snapshot.arn, s.subscriber_account)) {
        spdlog::warn(
            "event=sns_delivery_denied subscription={} reason=\"the Policy of queue {} does not "
            "let topic {} send (sqs:SendMessage for sns.amazonaws.com with aws:SourceArn)\"",
            arn, s.endpoint, snapshot.arn);
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
    std::string text = StructureEntry(request, s.protocol);
    auto raw_attribute = s.attributes.find("RawMessageDelivery");
    *raw = raw_attribute != s.attributes.end() && raw_attribute->second == "true";
    if (*raw) return text;
    EnvelopeFields fields;
    fields.type = "Notification";
    fields.message_id = message_id;
    fields.sequence_number = sequence_number;
    fields.topic_arn = snapshot.arn;
    fields.subject = request.subject;
    fields.message = std::move(text);
    fields.timestamp = Iso8601Millis(now_ms);
    fields.unsubscribe_url = base_url + "/?Action=Unsubscribe&SubscriptionArn=" + s.arn;
    fields.attributes = request.attributes;
    if (s.protocol == "email") return EmailText(fields.message, fields.unsubscribe_url);
    return BuildEnvelope(fields, snapshot, signer_, base_url, &signatures);
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
    // Every HTTP/S, email, SMS and push delivery of this message in one fsync'd write to the
    // outbox.
    storage::WriteBatch batch;
    std::vector<Delivery> staged;
    for (const Subscription& s : to_endpoints) {
      Delivery d = NewDelivery(snapshot, s);
      d.message_type = "Notification";
      d.message_id = message_id;
      const std::string chat_format = IsHttp(s.protocol) ? ChatFormatOf(s.attributes) : "";
      if (s.protocol == "application") {
        d.body = PushMessage(request);
      } else if (s.protocol == "sms") {
        d.body = StructureEntry(request, "sms");  // a phone gets the text alone
        d.account_scope = AccountScope(snapshot.region, snapshot.account);
        d.sender_id = SmsAttribute(request.attributes, "AWS.SNS.SMS.SenderID");
        d.sms_type = SmsAttribute(request.attributes, "AWS.SNS.SMS.SMSType");
      } else if (!chat_format.empty()) {
        d.chat_format = chat_format;
        d.body = StructureEntry(request, s.protocol);  // the text a person reads, not the envelope
        d.subject = request.subject;
        d.content_type = "application/json";
      } else {
        d.body = body_for(s, &d.raw);
        // AWS's subject line when the publisher gave none.
        if (IsEmail(s.protocol)) {
          d.subject = request.subject.empty() ? "AWS Notification Message" : request.subject;
        }
      }
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

  const std::string deduplication_id = snapshot.fifo ? DeduplicationId(request) : "";
  for (auto& delivery : to_queues) {
    const Subscription& s = delivery.subscription;
    NewMessage message;
    bool raw = false;
    message.body = body_for(s, &raw);
    if (raw) message.attributes = ToQueueAttributes(request.attributes);
    // A FIFO queue takes the group; so does a standard queue from a standard topic (a fair
    // queue's tenant). A FIFO topic's group only orders its FIFO subscribers: AWS does not
    // pass it to a standard queue.
    if (delivery.queue->fifo() || (request.message_group_id && !snapshot.fifo)) {
      message.message_group_id = request.message_group_id;
    }
    if (delivery.queue->fifo()) message.message_deduplication_id = deduplication_id;
    message.trace_header = request.trace_header;
    std::vector<NewMessage> batch;
    batch.push_back(std::move(message));
    queues_.SendMessages(
        delivery.queue, std::move(batch), snapshot.account,
        [tracker, arn = s.arn](std::vector<Result<SentMessage>> results) {
          const Status& s = results.front().status();
          if (IsTransient(s.code())) {  // the publish fails and is retried, never dropped
            tracker->Fail(s);
          } else if (!s.ok()) {
            // The queue refuses this message (e.g. larger than its MaximumMessageSize):
            // AWS drops such deliveries too.
            spdlog::warn("event=sns_delivery_refused subscription={} code={} message=\"{}\"", arn,
                         ErrorCodeName(s.code()), s.message());
          }
          tracker->Arrive();
        },
        SendAdmission::kAdmitted);
  }
}

}  // namespace postbox::core
