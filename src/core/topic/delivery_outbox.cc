#include "core/topic/delivery_outbox.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "base/encoding.h"
#include "core/topic/logged_endpoint.h"
#include "core/topic/topic.h"

namespace postbox::core {
namespace {

using nlohmann::json;

// What the failure queue gets for SES mail that could not be delivered: a JSON record in the
// spirit of SES's bounce notifications, with the whole message (base64) so nothing is lost.
std::string SesFailureRecord(const Delivery& d, const std::string& reason, int64_t now_ms) {
  return json{{"notificationType", "Failure"},
              {"failure", {{"reason", reason}, {"attempts", d.attempts}}},
              {"mail",
               {{"messageId", d.message_id},
                {"source", d.endpoint},
                {"destination", d.recipients},
                {"timestamp", Iso8601Millis(now_ms)}}},
              {"content", Base64Encode(d.body)}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

// What the failure queue gets for an SMS published to a phone number that could not be sent:
// enough to act on (the number, the text, why).
std::string SmsFailureRecord(const Delivery& d, const std::string& reason, int64_t now_ms) {
  return json{{"notificationType", "Failure"},
              {"failure", {{"reason", reason}, {"attempts", d.attempts}}},
              {"sms",
               {{"messageId", d.message_id},
                {"phoneNumber", d.endpoint},
                {"message", d.body},
                {"timestamp", Iso8601Millis(now_ms)}}}}
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::string EncodeDelivery(const Delivery& d) {
  const RetryPolicy& p = d.policy;
  const bool binary = d.protocol == "ses";
  json record{{"id", d.id},
              {"type", d.message_type},
              {"message_id", d.message_id},
              {"topic_arn", d.topic_arn},
              {"subscription_arn", d.subscription_arn},
              {"endpoint", d.endpoint},
              {"body", binary ? std::string() : d.body},
              {"raw", d.raw},
              {"protocol", d.protocol},
              {"subject", d.subject},
              {"from_name", d.from_name},
              {"recipients", d.recipients},
              {"policy",
               {p.min_delay_seconds, p.max_delay_seconds, p.num_retries, p.num_no_delay_retries,
                p.num_min_delay_retries, p.num_max_delay_retries, p.backoff_function,
                p.max_receives_per_second}},
              {"content_type", d.content_type},
              {"dead_letter_queue_arn", d.dead_letter_queue_arn},
              {"attempts", d.attempts},
              {"next_attempt_ms", d.next_attempt_ms}};
  // A whole message given to SES may hold any bytes (8-bit charsets, DKIM-signed lines): kept
  // exactly, as base64, where JSON would replace what is not UTF-8.
  if (binary) record["body_b64"] = Base64Encode(d.body);
  if (!d.account_scope.empty()) record["account_scope"] = d.account_scope;
  if (!d.sender_id.empty()) record["sender_id"] = d.sender_id;
  if (!d.sms_type.empty()) record["sms_type"] = d.sms_type;
  if (!d.chat_format.empty()) record["chat_format"] = d.chat_format;
  return record.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<Delivery> DecodeDelivery(std::string_view blob) {
  json j = json::parse(blob, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  Delivery d;
  try {
    d.id = j.at("id").get<std::string>();
    d.message_type = j.at("type").get<std::string>();
    d.message_id = j.at("message_id").get<std::string>();
    d.topic_arn = j.at("topic_arn").get<std::string>();
    d.subscription_arn = j.at("subscription_arn").get<std::string>();
    d.endpoint = j.at("endpoint").get<std::string>();
    d.body = j.at("body").get<std::string>();
    d.raw = j.at("raw").get<bool>();
    // Records written before other channels existed are HTTP/S ones.
    d.protocol = j.value("protocol", d.endpoint.rfind("https://", 0) == 0 ? std::string("https")
                                                                          : std::string("http"));
    d.subject = j.value("subject", std::string());
    d.from_name = j.value("from_name", std::string());
    d.recipients = j.value("recipients", std::vector<std::string>());
    d.account_scope = j.value("account_scope", std::string());
    d.sender_id = j.value("sender_id", std::string());
    d.sms_type = j.value("sms_type", std::string());
    d.chat_format = j.value("chat_format", std::string());
    if (j.contains("body_b64")) {
      auto body = Base64Decode(j.at("body_b64").get<std::string>());
      if (!body) return std::nullopt;
      d.body = std::move(*body);
    }
    const json& p = j.at("policy");
    d.policy.min_delay_seconds = p.at(0).get<int>();
    d.policy.max_delay_seconds = p.at(1).get<int>();
    d.policy.num_retries = p.at(2).get<int>();
    d.policy.num_no_delay_retries = p.at(3).get<int>();
    d.policy.num_min_delay_retries = p.at(4).get<int>();
    d.policy.num_max_delay_retries = p.at(5).get<int>();
    d.policy.backoff_function = p.at(6).get<std::string>();
    d.policy.max_receives_per_second = p.at(7).get<int>();
    // Records written before requestPolicy was honoured have no content type: the default.
    d.content_type = j.value("content_type", std::string(kDefaultDeliveryContentType));
    if (!IsHeaderSafeContentType(d.content_type)) d.content_type = kDefaultDeliveryContentType;
    d.dead_letter_queue_arn = j.at("dead_letter_queue_arn").get<std::string>();
    d.attempts = j.at("attempts").get<int>();
    d.next_attempt_ms = j.at("next_attempt_ms").get<int64_t>();
  } catch (const json::exception&) {
    return std::nullopt;
  }
  return d;
}

DeliveryOutbox::DeliveryOutbox(storage::Engine& engine, const Clock& clock,
                               channels::HttpSender& sender, QueueService& queues,
                               size_t max_backlog_bytes_per_endpoint)
    : engine_(engine),
      clock_(clock),
      http_channel_(sender),
      queues_(queues),
      max_backlog_bytes_per_endpoint_(max_backlog_bytes_per_endpoint) {
  AddChannel("http", &http_channel_);
  AddChannel("https", &http_channel_);
  stats_["unrouted"] = std::make_unique<Stats>();
}

DeliveryOutbox::Stats& DeliveryOutbox::StatsFor(const std::string& protocol) {
  auto it = stats_.find(protocol);
  return *(it == stats_.end() ? stats_.at("unrouted") : it->second);
}

void DeliveryOutbox::AddChannel(const std::string& protocol, DeliveryChannel* channel) {
  std::lock_guard lock(mu_);
  channels_[protocol] = channel;
  if (!stats_.count(protocol)) stats_[protocol] = std::make_unique<Stats>();
}

bool DeliveryOutbox::HasChannel(const std::string& protocol) const {
  std::lock_guard lock(mu_);
  return channels_.count(protocol) > 0;
}

size_t DeliveryOutbox::BacklogBytes(const Delivery& d) {
  // Confirmations and verification mails always fit; notifications and SES mail count.
  if (d.message_type != "Notification" && d.message_type != "Email") return 0;
  constexpr size_t kBookkeepingBytes = 512;
  size_t bytes = kBookkeepingBytes + d.body.size() + d.id.size() + d.message_id.size() +
                 d.topic_arn.size() + d.subscription_arn.size() + d.endpoint.size() +
                 d.dead_letter_queue_arn.size();
  for (const std::string& r : d.recipients) bytes += 32 + r.size();
  return bytes;
}

void DeliveryOutbox::AddLocked(Delivery delivery) {
  if (deliveries_.count(delivery.id)) return;  // ids are unique; never count one twice
  backlog_bytes_[delivery.endpoint] += BacklogBytes(delivery);
  waiting_[delivery.endpoint].emplace(delivery.next_attempt_ms, delivery.id);
  deliveries_.emplace(delivery.id, std::move(delivery));
}

bool DeliveryOutbox::FitsLocked(const Delivery& delivery) const {
  const size_t bytes = BacklogBytes(delivery);
  if (bytes == 0) return true;
  auto held = backlog_bytes_.find(delivery.endpoint);
  return (held == backlog_bytes_.end() ? 0 : held->second) + bytes <=
         max_backlog_bytes_per_endpoint_;
}

Delivery DeliveryOutbox::TakeLocked(std::map<std::string, Delivery>::iterator it) {
  auto held = backlog_bytes_.find(it->second.endpoint);
  if (held != backlog_bytes_.end()) {
    held->second -= std::min(held->second, BacklogBytes(it->second));
    if (held->second == 0) backlog_bytes_.erase(held);
  }
  Delivery out = std::move(it->second);
  deliveries_.erase(it);
  return out;
}

Status DeliveryOutbox::Load() {
  std::lock_guard lock(mu_);
  size_t corrupt = 0;
  POSTBOX_RETURN_IF_ERROR(engine_.LoadRecords(
      storage::RecordKind::kDelivery, [&](uint64_t, std::string_view, std::string_view blob) {
        auto d = DecodeDelivery(blob);
        if (!d) {
          ++corrupt;
          return;
        }
        // Already acknowledged: reloaded whatever the limit (which only holds back growth).
        AddLocked(std::move(*d));
      }));
  if (corrupt > 0) spdlog::error("event=sns_outbox_corrupt_records count={}", corrupt);
  if (!deliveries_.empty()) {
    spdlog::info("event=sns_outbox_resumed deliveries={}", deliveries_.size());
  }
  return Status::Ok();
}

void DeliveryOutbox::Stage(const Delivery& delivery, storage::WriteBatch* batch) {
  batch->PutRecord(storage::RecordKind::kDelivery, 0, delivery.id, EncodeDelivery(delivery));
}

void DeliveryOutbox::Activate(Delivery delivery) {
  {
    std::lock_guard lock(mu_);
    if (FitsLocked(delivery)) return AddLocked(std::move(delivery));
  }
  GiveUp(delivery, "the endpoint's backlog would exceed " +
                       std::to_string(max_backlog_bytes_per_endpoint_) + " bytes");
}

void DeliveryOutbox::Enqueue(Delivery delivery, std::function<void(Status)> done) {
  if (Status s = engine_.AdmitNewData(); !s.ok()) return done(s);  // storage is behind
  {
    // Refused before the write rather than given up after the answer: the caller can wait
    // and publish again. (Activate still gives up one that lost a race for the last room.)
    std::lock_guard lock(mu_);
    if (!FitsLocked(delivery)) {
      return done(Status(ErrorCode::kThrottling,
                         "Too many messages are waiting for this endpoint; publish again later."));
    }
  }
  storage::WriteBatch batch;
  Stage(delivery, &batch);
  engine_.Commit(std::move(batch), storage::Durability::kSync,
                 [this, delivery = std::move(delivery), done = std::move(done)](Status s) mutable {
                   if (s.ok()) Activate(std::move(delivery));
                   done(s);
                 });
}

size_t DeliveryOutbox::pending() const {
  std::lock_guard lock(mu_);
  return deliveries_.size();
}

void DeliveryOutbox::Advance() {
  std::vector<std::pair<DeliveryChannel*, Delivery>> to_send;
  std::vector<Delivery> to_dead_letter;
  {
    std::lock_guard lock(mu_);
    const int64_t now = clock_.NowMillis();
    for (auto endpoint = waiting_.begin(); endpoint != waiting_.end();) {
      auto& queue = endpoint->second;
      int& load = per_endpoint_[endpoint->first];
      int scanned = 0;
      for (auto it = queue.begin(); it != queue.end() && it->first <= now &&
                                    load < kMaxInFlightPerEndpoint && scanned < kMaxScanPerEndpoint;
           ++scanned) {
        Delivery& d = deliveries_.at(it->second);
        if (d.dead_letter_pending) {
          auto taken = deliveries_.find(it->second);
          it = queue.erase(it);
          to_dead_letter.push_back(TakeLocked(taken));
          continue;
        }
        auto channel = channels_.find(d.protocol);
        DeliveryChannel* via = channel == channels_.end() ? nullptr : channel->second;
        const bool limited = via != nullptr && via->max_in_flight() > 0;
        // The channel is busy: this endpoint waits (its turn comes as attempts finish).
        if (limited && channel_load_[via] >= via->max_in_flight()) break;
        if (d.policy.max_receives_per_second > 0) {
          auto& [second, count] = sent_this_second_[d.subscription_arn];
          if (second != now / 1000) second = now / 1000, count = 0;
          if (count >= d.policy.max_receives_per_second) {
            ++it;
            continue;
          }
          ++count;
        }
        if (limited) ++channel_load_[via];
        ++load;
        ++d.attempts;
        to_send.emplace_back(via, d);
        it = queue.erase(it);
      }
      if (load == 0) per_endpoint_.erase(endpoint->first);
      endpoint = queue.empty() ? waiting_.erase(endpoint) : std::next(endpoint);
    }
  }
  for (auto& [channel, delivery] : to_send) {
    if (channel == nullptr) {
      Finish(delivery.id, {DeliveryVerdict::kRetry, 0,
                           "this server has no channel for protocol " + delivery.protocol});
      continue;
    }
    channel->Deliver(delivery, [this, id = delivery.id](DeliveryOutcome outcome) {
      Finish(id, std::move(outcome));
    });
  }
  for (const Delivery& d : to_dead_letter) GiveUp(d, "retries exhausted (dead-letter retry)");
}

void DeliveryOutbox::CancelSubscription(const std::string& subscription_arn) {
  storage::WriteBatch batch;
  {
    std::lock_guard lock(mu_);
    for (auto it = deliveries_.begin(); it != deliveries_.end();) {
      const Delivery& d = it->second;
      auto waiting = waiting_.find(d.endpoint);
      bool is_waiting =
          waiting != waiting_.end() && waiting->second.erase({d.next_attempt_ms, d.id}) > 0;
      if (d.subscription_arn != subscription_arn || d.message_type == "UnsubscribeConfirmation" ||
          !is_waiting) {
        // Not this subscription's, the goodbye itself, or being posted (Finish handles it):
        // put back what was taken out.
        if (is_waiting) waiting->second.emplace(d.next_attempt_ms, d.id);
        ++it;
        continue;
      }
      if (waiting->second.empty()) waiting_.erase(waiting);
      batch.DeleteRecord(storage::RecordKind::kDelivery, 0, d.id);
      auto next = std::next(it);
      TakeLocked(it);
      it = next;
    }
  }
  if (!batch.ops().empty()) engine_.Commit(std::move(batch), storage::Durability::kLazy, nullptr);
}

void DeliveryOutbox::Finish(const std::string& id, DeliveryOutcome outcome) {
  std::unique_lock lock(mu_);
  auto it = deliveries_.find(id);
  if (it == deliveries_.end()) return;
  Delivery& d = it->second;
  if (--per_endpoint_[d.endpoint] <= 0) per_endpoint_.erase(d.endpoint);
  if (auto channel = channels_.find(d.protocol); channel != channels_.end()) {
    auto busy = channel_load_.find(channel->second);
    if (busy != channel_load_.end() && --busy->second <= 0) channel_load_.erase(busy);
  }
  if (outcome.verdict == DeliveryVerdict::kNotTried) {
    // Not tried (shutting down, a provider's rate limit): wait again; the attempt does not
    // count. Held back for a while, it waits that long plus up to a second at random (in
    // memory only), so that held-back deliveries take their turns in no fixed order.
    --d.attempts;
    if (outcome.retry_after_seconds > 0) {
      d.next_attempt_ms = clock_.NowMillis() +
                          int64_t(std::min(outcome.retry_after_seconds, 3600)) * 1000 +
                          int64_t(RandomUint64() % 1000);
    }
    waiting_[d.endpoint].emplace(d.next_attempt_ms, d.id);
    return;
  }
  storage::WriteBatch batch;
  if (outcome.verdict == DeliveryVerdict::kDelivered) {
    StatsFor(d.protocol).delivered.Add();
    // Delivered. Deleting the record lazily is safe: a crash before it only repeats the
    // delivery, which at-least-once delivery allows.
    batch.DeleteRecord(storage::RecordKind::kDelivery, 0, id);
    TakeLocked(it);
    lock.unlock();
    engine_.Commit(std::move(batch), storage::Durability::kLazy, nullptr);
    return;
  }
  StatsFor(d.protocol).failed_attempts.Add();
  const bool permanent = outcome.verdict == DeliveryVerdict::kPermanentFailure;
  if (permanent) StatsFor(d.protocol).permanent_failures.Add();
  std::optional<int> delay = permanent ? std::nullopt : d.policy.DelayBeforeRetry(d.attempts);
  spdlog::warn(
      "event=sns_delivery_attempt_failed subscription={} protocol={} endpoint={} attempt={} "
      "status={} permanent={} error=\"{}\" next_retry_s={}",
      d.subscription_arn, d.protocol, LoggedEndpoint(d.protocol, d.endpoint), d.attempts,
      outcome.status, permanent, MaskEndpointIn(outcome.error, d.protocol, d.endpoint),
      delay ? *delay : -1);
  if (delay) {
    int64_t delay_ms = int64_t(*delay) * 1000;
    // Email and other provider channels spread their retries by ±10 %, as AWS jitters its
    // fixed policies, so that mails refused together are not all retried in the same second.
    // (HTTP/S keeps the exact delays its DeliveryPolicy promises.)
    if (d.protocol != "http" && d.protocol != "https" && delay_ms > 0) {
      delay_ms += int64_t(RandomUint64() % uint64_t(delay_ms / 5 + 1)) - delay_ms / 10;
    }
    // A provider that asked for a longer pause (Retry-After) gets it, capped at an hour.
    delay_ms = std::max(delay_ms, int64_t(std::min(outcome.retry_after_seconds, 3600)) * 1000);
    d.next_attempt_ms = clock_.NowMillis() + delay_ms;
    waiting_[d.endpoint].emplace(d.next_attempt_ms, d.id);
    Stage(d, &batch);
    lock.unlock();
    engine_.Commit(std::move(batch), storage::Durability::kLazy, nullptr);
    return;
  }
  Delivery failed = TakeLocked(it);
  lock.unlock();
  GiveUp(failed, permanent ? "permanent failure: " +
                                 MaskEndpointIn(outcome.error, failed.protocol, failed.endpoint)
                           : "retries exhausted");
}

void DeliveryOutbox::GiveUp(const Delivery& d, const std::string& reason) {
  auto forget = [this, id = d.id] {
    storage::WriteBatch batch;
    batch.DeleteRecord(storage::RecordKind::kDelivery, 0, id);
    engine_.Commit(std::move(batch), storage::Durability::kLazy, nullptr);
  };
  std::optional<QueueId> dlq = QueueId::FromArn(d.dead_letter_queue_arn);
  auto queue = dlq ? queues_.GetQueue(*dlq) : Result<QueuePtr>(Status(ErrorCode::kNotFound, ""));
  if (!queue.ok()) {
    spdlog::error(
        "event=sns_delivery_dropped subscription={} endpoint={} message_id={} attempts={} "
        "reason=\"{}, {}\"",
        d.subscription_arn, LoggedEndpoint(d.protocol, d.endpoint), d.message_id, d.attempts,
        reason,
        d.dead_letter_queue_arn.empty()
            ? "no RedrivePolicy"
            : "dead-letter queue " + d.dead_letter_queue_arn + " missing");
    StatsFor(d.protocol).dropped.Add();
    return forget();
  }
  NewMessage message;
  if (d.protocol == "ses") {
    message.body = SesFailureRecord(d, reason, clock_.NowMillis());
  } else if (d.protocol == "sms" && d.subscription_arn.empty()) {
    message.body = SmsFailureRecord(d, reason, clock_.NowMillis());  // Publish to a number
  } else {
    message.body = d.body;
  }
  if ((*queue)->fifo()) {  // HTTP/S subscriptions exist only on standard topics
    StatsFor(d.protocol).dropped.Add();
    return forget();
  }
  std::vector<NewMessage> batch;
  batch.push_back(std::move(message));
  queues_.SendMessages(*queue, std::move(batch), "sns",
                       [this, d, forget, reason](std::vector<Result<SentMessage>> results) {
                         const Status& s = results.front().status();
                         if (IsTransient(s.code())) {
                           // Storage could not take it: the record stays, and the delivery
                           // is tried again later (a lost notification is never the answer).
                           Delivery again = d;
                           again.next_attempt_ms = clock_.NowMillis() + kGiveUpRetryMs;
                           again.dead_letter_pending = true;
                           spdlog::warn(
                               "event=sns_dead_letter_deferred subscription={} message_id={} "
                               "message=\"{}\"",
                               d.subscription_arn, d.message_id, s.message());
                           std::lock_guard lock(mu_);
                           // Not Activate: a backlog that is full would give it up again, on
                           // and on while storage is down. Held beyond the backlog's limit:
                           // bounded by the deliveries that were given up while it was down.
                           return AddLocked(std::move(again));
                         }
                         if (!s.ok()) {
                           StatsFor(d.protocol).dropped.Add();
                           spdlog::error(
                               "event=sns_dead_letter_failed subscription={} message_id={} "
                               "code={} message=\"{}\"",
                               d.subscription_arn, d.message_id, ErrorCodeName(s.code()),
                               s.message());
                         } else {
                           StatsFor(d.protocol).dead_lettered.Add();
                           spdlog::warn(
                               "event=sns_delivery_dead_lettered subscription={} message_id={} "
                               "queue={} reason=\"{}\"",
                               d.subscription_arn, d.message_id, d.dead_letter_queue_arn, reason);
                         }
                         forget();
                       });
}

}  // namespace postbox::core
